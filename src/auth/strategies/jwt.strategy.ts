import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { ACCESS_TOKEN_ALGORITHM, AccessTokenService } from '../access-token.service';
import { AuthenticatedUser } from '../auth.types';

/**
 * Argus's own access tokens: HS256 only (so `alg: none`, HS512 or an RS256 token signed with
 * anything are refused), signature, `exp`, `iss` and `aud` verified by jsonwebtoken against a
 * KeyObject built once, then every required claim checked. Read from the Authorization header only.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(private readonly accessTokens: AccessTokenService) {
    const { issuer, audience } = accessTokens.expectedClaims;
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken 9 takes a KeyObject (and skips re-parsing the secret); the typings predate it.
      secretOrKey: accessTokens.key as unknown as Buffer,
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      issuer,
      audience,
      ignoreExpiration: false,
    });
  }

  validate(payload: unknown): AuthenticatedUser | null {
    return this.accessTokens.userFromClaims(payload);
  }
}
