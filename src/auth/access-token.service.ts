import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { sign } from 'jsonwebtoken';
import { createSecretKey, KeyObject, randomUUID } from 'node:crypto';
import { AppConfig, AuthSettings } from '../config/config.types';
import { AuthenticatedUser, isUserRole } from './auth.types';

/** The only algorithm Argus signs and accepts for its own access tokens. */
export const ACCESS_TOKEN_ALGORITHM = 'HS256';

export interface IssuedAccessToken {
  accessToken: string;
  /** Lifetime in seconds (JWT_ACCESS_TTL). */
  expiresIn: number;
}

export interface ExpectedClaims {
  issuer: string;
  audience: string;
}

/**
 * Signs access tokens (JWT HS256 with JWT_SECRET) and checks the claims of verified ones. The
 * secret is turned into a KeyObject once: jsonwebtoken would otherwise re-parse a string secret on
 * every sign and verify. Tokens carry `email` and `role`, so authenticating a request reads no row.
 */
@Injectable()
export class AccessTokenService {
  /** Used to sign here and to verify in JwtStrategy. */
  readonly key: KeyObject;
  private readonly settings: AuthSettings;

  constructor(config: ConfigService<AppConfig, true>) {
    this.settings = config.get('auth', { infer: true });
    this.key = createSecretKey(Buffer.from(this.settings.jwtSecret, 'utf8'));
  }

  get expectedClaims(): ExpectedClaims {
    return { issuer: this.settings.issuer, audience: this.settings.audience };
  }

  issue(user: AuthenticatedUser): IssuedAccessToken {
    const expiresIn = this.settings.accessTtlSeconds;
    const accessToken = sign({ email: user.email, role: user.role }, this.key, {
      algorithm: ACCESS_TOKEN_ALGORITHM,
      expiresIn,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      subject: user.id,
      jwtid: randomUUID(),
    });
    return { accessToken, expiresIn };
  }

  /** The user of a token whose signature, `exp`, `iss` and `aud` jsonwebtoken has verified. */
  userFromClaims(payload: unknown): AuthenticatedUser | null {
    return userFromAccessClaims(payload, this.expectedClaims);
  }
}

/**
 * Every claim an Argus access token must carry, checked explicitly: jsonwebtoken accepts a token
 * without `exp` and only compares `iss`/`aud` when they are present in the options.
 */
export function userFromAccessClaims(
  payload: unknown,
  expected: ExpectedClaims,
  nowSeconds = Math.floor(Date.now() / 1000),
): AuthenticatedUser | null {
  if (!hasRegisteredClaims(payload, expected, nowSeconds)) return null;
  const { sub, jti, email, role } = payload;
  if (!isNonEmptyString(jti) || !isNonEmptyString(email) || !isUserRole(role)) return null;
  return { id: sub, email, role };
}

export interface RegisteredClaims {
  sub: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string | string[];
  [claim: string]: unknown;
}

/** `sub`, `iat`, `exp`, `iss`, `aud` present and right; `exp` in the future, `iat` not in the future. */
export function hasRegisteredClaims(
  payload: unknown,
  expected: ExpectedClaims,
  nowSeconds = Math.floor(Date.now() / 1000),
  clockSkewSeconds = 60,
): payload is RegisteredClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const { sub, iat, exp, iss, aud } = payload as Record<string, unknown>;
  if (!isNonEmptyString(sub) || sub.length > 255) return false;
  if (!isNumericDate(iat) || !isNumericDate(exp)) return false;
  if (exp <= nowSeconds || iat > nowSeconds + clockSkewSeconds) return false;
  if (iss !== expected.issuer) return false;
  const audiences = Array.isArray(aud) ? aud : [aud];
  return audiences.includes(expected.audience);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
