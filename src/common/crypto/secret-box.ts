import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const FORMAT = 'v1';
const IV_BYTES = 12;
const HKDF_SALT = 'argus';
const HKDF_INFO = 'argus webhook endpoint secrets v1';

interface Key {
  id: string;
  bytes: Buffer;
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/**
 * Encrypts endpoint signing secrets at rest (AES-256-GCM). The key is derived with HKDF-SHA256
 * from a secret that lives outside the database (WEBHOOK_SECRET_KEY, else JWT_SECRET), so a
 * database dump alone cannot sign a delivery. Each ciphertext names its key (a short hash), and
 * the row id is bound in as associated data, so a ciphertext copied to another row does not open.
 *
 * `keySecrets[0]` seals; every one of them opens (what JWT_SECRET sealed stays readable after
 * WEBHOOK_SECRET_KEY is set, and JWT_SECRET_PREVIOUS opens what the old JWT_SECRET sealed during a
 * rotation); `isCurrent` tells which sealed values to seal again under the first key.
 */
export class SecretBox {
  private readonly keys: Key[];

  constructor(keySecrets: readonly string[]) {
    if (keySecrets.length === 0) throw new Error('SecretBox needs at least one key secret');
    this.keys = [...new Set(keySecrets)].map(deriveKey);
  }

  seal(plaintext: string, boundTo: string): string {
    const key = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key.bytes, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, key.id, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** True when `sealed` was sealed with the key that seals now. */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(this.currentPrefix);
  }

  /** `v1.<key id>.`: every value sealed with the current key starts with it. */
  get currentPrefix(): string {
    return `${FORMAT}.${this.keys[0].id}.`;
  }

  /** @throws SecretBoxError when the value is malformed, its key is not configured, or it was altered. */
  open(sealed: string, boundTo: string): string {
    const [format, keyId, iv, tag, ciphertext, ...rest] = sealed.split('.');
    if (format !== FORMAT || rest.length > 0 || ciphertext === undefined) {
      throw new SecretBoxError('not a sealed secret');
    }
    const key = this.keys.find((candidate) => candidate.id === keyId);
    if (!key) throw new SecretBoxError(`sealed with key ${keyId}, which is not configured`);
    try {
      const decipher = createDecipheriv(ALGORITHM, key.bytes, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('the sealed secret does not authenticate');
    }
  }
}

function deriveKey(secret: string): Key {
  const bytes = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32));
  // Names the key without revealing it: a hash of the derived key, not of the secret.
  const id = createHash('sha256').update(bytes).digest('base64url').slice(0, 8);
  return { id, bytes };
}
