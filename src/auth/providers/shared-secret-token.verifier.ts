import { JwtHeader, verify } from 'jsonwebtoken';
import { createSecretKey, KeyObject } from 'node:crypto';
import { ExpectedClaims, hasRegisteredClaims } from '../access-token.service';
import { ProviderClaims, ProviderTokenVerifier } from './provider-token.verifier';

export interface SharedSecretProviderOptions {
  secret: string;
  issuer: string;
  audience: string;
}

/**
 * Access tokens of an identity provider that signs HS256 with a secret it shares with Argus
 * (AUTH_SHARED_SECRET, e.g. a Supabase project on the legacy JWT secret: `iss`
 * `https://<project>.supabase.co/auth/v1`, `aud` and `role` `authenticated`). Only HS256; a
 * `role` claim other than `authenticated` (Supabase's `anon` and `service_role` keys) is refused.
 */
export class SharedSecretTokenVerifier implements ProviderTokenVerifier {
  private readonly key: KeyObject;
  private readonly expected: ExpectedClaims;

  constructor(options: SharedSecretProviderOptions) {
    this.key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    this.expected = { issuer: options.issuer, audience: options.audience };
  }

  get issuer(): string {
    return this.expected.issuer;
  }

  verify(token: string, header: JwtHeader): Promise<ProviderClaims | null> {
    if (header.alg !== 'HS256') return Promise.resolve(null);
    try {
      const payload = verify(token, this.key, {
        algorithms: ['HS256'],
        issuer: this.expected.issuer,
        audience: this.expected.audience,
      });
      if (!hasRegisteredClaims(payload, this.expected)) return Promise.resolve(null);
      if (payload.role !== undefined && payload.role !== 'authenticated') return Promise.resolve(null);
      return Promise.resolve(payload);
    } catch {
      return Promise.resolve(null);
    }
  }
}
