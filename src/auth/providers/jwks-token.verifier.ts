import { Logger } from '@nestjs/common';
import { JwtHeader, verify } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import { createPublicKey } from 'node:crypto';
import { ExpectedClaims, hasRegisteredClaims } from '../access-token.service';
import { ProviderClaims, ProviderTokenVerifier } from './provider-token.verifier';

/** Algorithms accepted from a JWKS identity provider: asymmetric only. */
export const EXTERNAL_TOKEN_ALGORITHMS = ['RS256', 'ES256'] as const;

export interface JwksProviderOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
}

/**
 * Access tokens of an identity provider publishing a JWKS (Supabase signing keys, Auth0, Cognito…)
 * when AUTH_JWKS_URL is set: RS256/ES256 signatures checked against the provider's keys (cached for
 * 10 minutes, at most 10 fetches a minute, an unknown `kid` refetches), `iss`/`aud` from
 * AUTH_JWKS_ISSUER and AUTH_JWKS_AUDIENCE. An unreachable key set refuses the token (401).
 */
export class JwksTokenVerifier implements ProviderTokenVerifier {
  private readonly logger = new Logger(JwksTokenVerifier.name);
  private readonly client: JwksClient;
  private readonly expected: ExpectedClaims;

  constructor(options: JwksProviderOptions) {
    this.client = new JwksClient({
      jwksUri: options.jwksUrl,
      cache: true,
      cacheMaxEntries: 10,
      cacheMaxAge: 10 * 60_000,
      rateLimit: true,
      jwksRequestsPerMinute: 10,
      timeout: 5000,
    });
    this.expected = { issuer: options.issuer, audience: options.audience };
  }

  get issuer(): string {
    return this.expected.issuer;
  }

  async verify(token: string, header: JwtHeader): Promise<ProviderClaims | null> {
    if (!(EXTERNAL_TOKEN_ALGORITHMS as readonly string[]).includes(header.alg)) return null;
    let publicKey: string;
    try {
      publicKey = (await this.client.getSigningKey(header.kid)).getPublicKey();
    } catch (error) {
      this.logger.debug({ msg: 'no provider key for token', kid: header.kid, reason: (error as Error).message });
      return null;
    }
    try {
      const payload = verify(token, createPublicKey(publicKey), {
        algorithms: [...EXTERNAL_TOKEN_ALGORITHMS],
        issuer: this.expected.issuer,
        audience: this.expected.audience,
      });
      return hasRegisteredClaims(payload, this.expected) ? payload : null;
    } catch {
      return null;
    }
  }
}
