import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const FORMAT = 'i1';
const IV_BYTES = 12;
const HKDF_INFO = 'argus idempotency responses v1';

interface Key {
  id: string;
  bytes: Buffer;
}

/**
 * Encrypts kept response bodies at rest (AES-256-GCM), so a dump of the database or of Redis alone
 * reads none of them — a replayed `POST /v1/webhooks` answer holds the endpoint's signing secret.
 * The key is derived (HKDF-SHA256, its own `info`) from JWT_SECRET, which lives outside both
 * stores and which every replica shares; JWT_SECRET_PREVIOUS still opens bodies kept before a
 * rotation. The user and key are bound in as associated data: a body copied to another key does not open.
 */
export class ResponseSeal {
  private readonly keys: Key[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('ResponseSeal needs at least one secret');
    this.keys = secrets.map(deriveKey);
  }

  seal(plaintext: string, boundTo: string): string {
    const key = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key.bytes, iv).setAAD(Buffer.from(boundTo, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, key.id, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64url'))].join(
      '.',
    );
  }

  /** The plaintext, or undefined when the value is malformed, altered, bound elsewhere or sealed with a key no longer configured. */
  open(sealed: string, boundTo: string): string | undefined {
    const [format, keyId, iv, tag, ciphertext, ...rest] = sealed.split('.');
    const key = this.keys.find((candidate) => candidate.id === keyId);
    if (format !== FORMAT || rest.length > 0 || ciphertext === undefined || !key) return undefined;
    try {
      const decipher = createDecipheriv(ALGORITHM, key.bytes, Buffer.from(iv, 'base64url'))
        .setAAD(Buffer.from(boundTo, 'utf8'))
        .setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

function deriveKey(secret: string): Key {
  const bytes = Buffer.from(hkdfSync('sha256', secret, 'argus', HKDF_INFO, 32));
  // Names the key without revealing it: a hash of the derived key, not of the secret.
  return { id: createHash('sha256').update(bytes).digest('base64url').slice(0, 8), bytes };
}
