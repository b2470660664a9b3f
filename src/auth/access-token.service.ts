import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { JwtHeader, sign, verify } from 'jsonwebtoken';
import { createHash, createHmac, createSecretKey, KeyObject } from 'node:crypto';
import { AppConfig, AuthSettings } from '../config/config.types';
import { AuthenticatedUser, isUserRole, VerifiedAccessToken } from './auth.types';
import { uuidV7, uuidV7Millis } from './uuid-v7';

/** The only algorithm Argus signs and accepts for its own access tokens. */
export const ACCESS_TOKEN_ALGORITHM = 'HS256';

/** Clock skew allowed on `iat` and on a token's lifetime (docs/api.md, "Accounts and tokens"). */
export const CLOCK_SKEW_SECONDS = 60;

export interface IssuedAccessToken {
  accessToken: string;
  /** Lifetime in seconds (JWT_ACCESS_TTL). */
  expiresIn: number;
}

export interface ExpectedClaims {
  issuer: string;
  audience: string;
  /** When set, a token whose `exp - iat` is longer (plus the skew) is refused. */
  maxLifetimeSeconds?: number;
}

interface VerificationKey {
  /** `kid` header of the tokens it signs: an HMAC of a constant, so it says nothing about the secret. */
  id: string;
  key: KeyObject;
}

/**
 * Signs access tokens (JWT HS256 with JWT_SECRET) and verifies them: the algorithm pinned, the
 * signature checked with JWT_SECRET or, during a rotation, JWT_SECRET_PREVIOUS (the `kid` header
 * says which), then every required claim and the lifetime cap checked explicitly. Secrets become
 * KeyObjects once: jsonwebtoken would otherwise re-parse a string secret on every sign and verify.
 * Tokens carry `email` and `role`, so authenticating a request reads no row.
 */
@Injectable()
export class AccessTokenService {
  /** The current signing key. */
  readonly key: KeyObject;
  private readonly keys: VerificationKey[];
  private readonly settings: AuthSettings;

  constructor(config: ConfigService<AppConfig, true>) {
    this.settings = config.get('auth', { infer: true });
    this.keys = [this.settings.jwtSecret, this.settings.jwtSecretPrevious]
      .filter((secret): secret is string => secret !== undefined)
      .map((secret) => ({ id: keyId(secret), key: createSecretKey(Buffer.from(secret, 'utf8')) }));
    this.key = this.keys[0].key;
  }

  get expectedClaims(): ExpectedClaims {
    return {
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      maxLifetimeSeconds: this.settings.accessTtlSeconds,
    };
  }

  issue(user: AuthenticatedUser): IssuedAccessToken {
    const expiresIn = this.settings.accessTtlSeconds;
    const accessToken = sign({ email: user.email, role: user.role }, this.key, {
      algorithm: ACCESS_TOKEN_ALGORITHM,
      keyid: this.keys[0].id,
      expiresIn,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      subject: user.id,
      jwtid: uuidV7(),
    });
    return { accessToken, expiresIn };
  }

  /** The verified token, or null for anything that is not a current, complete Argus access token. */
  verify(token: string, header: JwtHeader, nowMs = Date.now()): VerifiedAccessToken | null {
    const candidates = header.kid === undefined ? this.keys : this.keys.filter((key) => key.id === header.kid);
    for (const { key } of candidates) {
      let payload: unknown;
      try {
        // jsonwebtoken 9 takes a KeyObject (and skips re-parsing the secret).
        payload = verify(token, key, {
          algorithms: [ACCESS_TOKEN_ALGORITHM],
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          clockTimestamp: Math.floor(nowMs / 1000),
        });
      } catch {
        continue;
      }
      return verifiedAccessToken(payload, this.expectedClaims, nowMs);
    }
    return null;
  }

  /** The user of a token whose signature, `exp`, `iss` and `aud` have been verified. */
  userFromClaims(payload: unknown): AuthenticatedUser | null {
    return userFromAccessClaims(payload, this.expectedClaims);
  }
}

function keyId(secret: string): string {
  return createHmac('sha256', secret).update('argus:access-token-kid').digest('base64url').slice(0, 12);
}

/** A verified Argus token's user, id and times, when every claim is there and right. */
export function verifiedAccessToken(
  payload: unknown,
  expected: ExpectedClaims,
  nowMs = Date.now(),
): VerifiedAccessToken | null {
  const user = userFromAccessClaims(payload, expected, Math.floor(nowMs / 1000));
  if (!user) return null;
  const { jti, iat, exp } = payload as RegisteredClaims & { jti: string };
  const precise = uuidV7Millis(jti);
  const issuedAtMs = precise !== undefined && Math.floor(precise / 1000) === iat ? precise : iat * 1000;
  return { user, tokenId: jti.length <= 64 ? jti : createHash('sha256').update(jti).digest('hex'), issuedAtMs, expiresAtMs: exp * 1000 };
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

/**
 * `sub`, `iat`, `exp`, `iss`, `aud` present and right; `exp` in the future, `iat` not in the
 * future; and, when `expected.maxLifetimeSeconds` is set, `exp - iat` within it plus the skew.
 */
export function hasRegisteredClaims(
  payload: unknown,
  expected: ExpectedClaims,
  nowSeconds = Math.floor(Date.now() / 1000),
  clockSkewSeconds = CLOCK_SKEW_SECONDS,
): payload is RegisteredClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const { sub, iat, exp, iss, aud } = payload as Record<string, unknown>;
  if (!isNonEmptyString(sub) || sub.length > 255) return false;
  if (!isNumericDate(iat) || !isNumericDate(exp)) return false;
  if (exp <= nowSeconds || iat > nowSeconds + clockSkewSeconds) return false;
  if (expected.maxLifetimeSeconds !== undefined && exp - iat > expected.maxLifetimeSeconds + clockSkewSeconds) {
    return false;
  }
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
