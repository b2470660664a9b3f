import type { JwtHeader } from 'jsonwebtoken';
import type { RegisteredClaims } from '../access-token.service';

/** The claims of an identity-provider token whose signature, times, `iss` and `aud` were verified. */
export type ProviderClaims = RegisteredClaims;

/**
 * One identity provider whose access tokens Argus accepts: AUTH_JWKS_URL (RS256/ES256 keys from
 * its JWKS) or AUTH_SHARED_SECRET (HS256, Supabase's legacy JWT secret). Chosen by the token's
 * `iss`, so a token is only ever checked with the keys of the issuer it names.
 */
export interface ProviderTokenVerifier {
  readonly issuer: string;
  /** The verified claims; null (never a throw) for a token this provider did not sign. */
  verify(token: string, header: JwtHeader): Promise<ProviderClaims | null>;
}

/** Injection token of the configured providers (none, one or both). */
export const PROVIDER_TOKEN_VERIFIERS = Symbol('PROVIDER_TOKEN_VERIFIERS');

/**
 * Whether the provider vouches for the token's email: `email_verified: true` (OpenID Connect), or
 * `user_metadata.email_verified: true` (where Supabase puts it).
 */
export function emailVerified(claims: ProviderClaims): boolean {
  if (claims.email_verified === true) return true;
  const metadata = claims.user_metadata;
  return typeof metadata === 'object' && metadata !== null && (metadata as Record<string, unknown>).email_verified === true;
}
