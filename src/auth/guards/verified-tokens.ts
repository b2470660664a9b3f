import { decode } from 'jsonwebtoken';
import { LruMap } from '../../cache/lru-map';
import { AuthenticatedUser } from '../auth.types';

interface Verified {
  user: AuthenticatedUser;
  /** Epoch ms: the token's `exp`, capped by `maxAgeMs` from when it was verified. */
  expiresAt: number;
}

/**
 * Authorization headers whose bearer token a strategy has verified, with the user it named, until
 * the token's `exp` and for at most `maxAgeMs`. A client sends the same access token for its whole
 * lifetime, so a repeated one costs a map lookup instead of base64, JSON, HMAC and claim checks
 * (fast-jwt's verifier cache does the same). The key is the exact header text: a token that differs
 * by one character, its signature included, is verified afresh. `maxAgeMs` bounds how long a
 * verdict outlives what could change it without a new token: an identity provider's key rotation,
 * an external identity's mapping.
 */
export class VerifiedTokens {
  private readonly entries: LruMap<Verified>;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
  ) {
    this.entries = new LruMap<Verified>(maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The (frozen) user of an already verified, still unexpired header; undefined otherwise. */
  get(authorization: string, now = Date.now()): AuthenticatedUser | undefined {
    const entry = this.entries.get(authorization);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(authorization);
      return undefined;
    }
    return entry.user;
  }

  /** Keeps a header a strategy has just accepted; one without a readable `exp` is not kept. */
  remember(authorization: string, user: AuthenticatedUser, now = Date.now()): void {
    const exp = expiryOf(authorization);
    if (exp === undefined) return;
    const expiresAt = Math.min(exp * 1000, now + this.maxAgeMs);
    if (expiresAt <= now) return;
    this.entries.set(authorization, { user: Object.freeze({ ...user }), expiresAt });
  }
}

/** The `exp` claim of a `Bearer <jwt>` header's token (its signature was verified by the strategy). */
function expiryOf(authorization: string): number | undefined {
  const token = authorization.slice(authorization.indexOf(' ') + 1).trim();
  const payload = decode(token, { json: true });
  return typeof payload?.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp : undefined;
}
