import { PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ExpectedClaims } from '../access-token.service';
import { AuthenticatedUser } from '../auth.types';
import { ExternalIdentityService } from '../external-identity.service';

/** Algorithms accepted from an external identity provider: asymmetric only. */
export const EXTERNAL_TOKEN_ALGORITHMS = ['RS256', 'ES256'] as const;

export interface JwksStrategyOptions extends ExpectedClaims {
  jwksUrl: string;
}

/**
 * Access tokens of an external identity provider (Supabase, Auth0, Cognito…) when AUTH_JWKS_URL is
 * set: RS256/ES256 signatures checked against the provider's JWKS (keys cached for 10 minutes, at
 * most 10 fetches a minute, an unknown `kid` refetches), `iss`/`aud` from AUTH_JWKS_ISSUER and
 * AUTH_JWKS_AUDIENCE. Created by AuthModule only when configured.
 */
export class JwksStrategy extends PassportStrategy(Strategy, 'jwks') {
  constructor(
    private readonly settings: JwksStrategyOptions,
    private readonly identities: ExternalIdentityService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: passportJwtSecret({
        jwksUri: settings.jwksUrl,
        cache: true,
        cacheMaxEntries: 10,
        cacheMaxAge: 10 * 60_000,
        rateLimit: true,
        jwksRequestsPerMinute: 10,
        timeout: 5000,
      }),
      algorithms: [...EXTERNAL_TOKEN_ALGORITHMS],
      issuer: settings.issuer,
      audience: settings.audience,
      ignoreExpiration: false,
    });
  }

  validate(payload: unknown): Promise<AuthenticatedUser | null> {
    return this.identities.userFromClaims(payload, { issuer: this.settings.issuer, audience: this.settings.audience });
  }
}
