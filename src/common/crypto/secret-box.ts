import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const HKDF_SALT = 'argus';

/** What a box seals: its own HKDF `info` (so each use has its own key) and the values' prefix. */
export interface SecretBoxPurpose {
  info: string;
  format: string;
}

interface Key {
  id: string;
  bytes: Buffer;
}

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/**
 * Encrypts values at rest (AES-256-GCM) — webhook signing secrets, kept idempotent responses — so
 * a dump of the database or Redis alone reads none of them. The key is derived with HKDF-SHA256
 * from a secret that lives outside the stores (WEBHOOK_SECRET_KEY, JWT_SECRET), with the purpose's
 * own `info`. Each ciphertext names its key (a short hash), and `boundTo` (a row id, a user and
 * key) is bound in as associated data, so a ciphertext copied elsewhere does not open.
 *
 * `keySecrets[0]` seals; every one of them opens (JWT_SECRET_PREVIOUS opens what the old
 * JWT_SECRET sealed during a rotation); `isCurrent` tells which values to seal again.
 */
export class SecretBox {
  private readonly keys: Key[];
  private readonly format: string;

  constructor(keySecrets: readonly string[], purpose: SecretBoxPurpose) {
    if (keySecrets.length === 0) throw new Error('SecretBox needs at least one key secret');
    this.format = purpose.format;
    this.keys = [...new Set(keySecrets)].map((secret) => deriveKey(secret, purpose.info));
  }

  seal(plaintext: string, boundTo: string): string {
    const key = this.keys[0];
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key.bytes, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [this.format, key.id, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** True when `sealed` was sealed with the key that seals now. */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(this.currentPrefix);
  }

  /** `v1.<key id>.`: every value sealed with the current key starts with it. */
  get currentPrefix(): string {
    return `${this.format}.${this.keys[0].id}.`;
  }

  /** @throws SecretBoxError when the value is malformed, its key is not configured, or it was altered. */
  open(sealed: string, boundTo: string): string {
    const [format, keyId, iv, tag, ciphertext, ...rest] = sealed.split('.');
    if (format !== this.format || rest.length > 0 || ciphertext === undefined) {
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

  /** `open`, answering undefined instead of throwing. */
  tryOpen(sealed: string, boundTo: string): string | undefined {
    try {
      return this.open(sealed, boundTo);
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
  }
}

function deriveKey(secret: string, info: string): Key {
  const bytes = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, info, 32));
  // Names the key without revealing it: a hash of the derived key, not of the secret.
  const id = createHash('sha256').update(bytes).digest('base64url').slice(0, 8);
  return { id, bytes };
}
