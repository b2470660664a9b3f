import { LruMap } from '../../cache/lru-map';
import { VerifiedAccessToken } from '../auth.types';

interface Remembered {
  token: VerifiedAccessToken;
  /** Epoch ms: the token's `exp`, capped by `maxAgeMs` from when it was verified. */
  forgetAt: number;
}

/**
 * Bearer tokens already verified, with what they say, until the token's `exp` and for at most
 * `maxAgeMs`. A client sends the same access token for its whole lifetime, so a repeated one costs
 * a map lookup instead of base64, JSON, HMAC and claim checks (fast-jwt's verifier cache does the
 * same). The key is the exact token text: a token that differs by one character, its signature
 * included, is verified afresh. Revocations are not this memo's business: the guard asks
 * AccessRevocations on every hit. `maxAgeMs` bounds how long a verdict outlives what could change
 * it without a new token: an identity provider's key rotation, an identity's account.
 */
export class VerifiedTokens {
  private readonly entries: LruMap<Remembered>;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
  ) {
    this.entries = new LruMap<Remembered>(maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The (frozen) verified token, while unexpired; undefined otherwise. */
  get(token: string, now = Date.now()): VerifiedAccessToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.forgetAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.token;
  }

  /** Keeps a token that has just been verified; an expired one is not kept. */
  remember(token: string, verified: VerifiedAccessToken, now = Date.now()): void {
    const forgetAt = Math.min(verified.expiresAtMs, now + this.maxAgeMs);
    if (forgetAt <= now) return;
    const frozen = Object.freeze({ ...verified, user: Object.freeze({ ...verified.user }) });
    this.entries.set(token, { token: frozen, forgetAt });
  }
}
