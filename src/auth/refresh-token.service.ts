import { Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppConfig } from '../config/config.types';
import { RefreshTokensRepository } from './refresh-tokens.repository';

/** 32 random bytes = 256 bits, base64url: 43 characters. */
const REFRESH_TOKEN_BYTES = 32;

export function generateRefreshToken(): string {
  return randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
}

/** What is stored instead of the token: hex SHA-256 (a 256-bit random token needs no salt or KDF). */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface IssuedRefreshToken {
  refreshToken: string;
  familyId: string;
}

export interface SpentRefreshToken {
  userId: string;
  familyId: string;
}

const INVALID_REFRESH_TOKEN = 'The refresh token is invalid, expired or revoked.';

/**
 * Opaque, single-use refresh tokens grouped in families (one family per sign-in). Rotation spends
 * the presented token atomically; presenting a spent token again revokes its whole family.
 */
@Injectable()
export class RefreshTokenService {
  private readonly logger = new Logger(RefreshTokenService.name);
  private readonly ttlMs: number;

  constructor(
    private readonly tokens: RefreshTokensRepository,
    config: ConfigService<AppConfig, true>,
  ) {
    this.ttlMs = config.get('auth.refreshTtlSeconds', { infer: true }) * 1000;
  }

  /** A new token in `familyId`, or in a new family when none is given (a fresh sign-in). */
  async issue(userId: string, familyId: string = randomUUID()): Promise<IssuedRefreshToken> {
    const refreshToken = generateRefreshToken();
    const now = new Date();
    await this.tokens.insert(
      { userId, familyId, tokenHash: hashRefreshToken(refreshToken), expiresAt: new Date(now.getTime() + this.ttlMs) },
      now,
    );
    return { refreshToken, familyId };
  }

  /**
   * Spends `refreshToken` and tells whose it was. Unknown, expired or revoked → 401; already spent
   * (a replay, or a concurrent refresh that lost the race) → the family is revoked, then 401.
   */
  async spend(refreshToken: string): Promise<SpentRefreshToken> {
    const now = new Date();
    const stored = await this.tokens.findByHash(hashRefreshToken(refreshToken));
    if (!stored) throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    if (stored.revokedAt) throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    if (stored.usedAt === null && stored.expiresAt.getTime() <= now.getTime()) {
      throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
    }

    if (stored.usedAt === null && (await this.tokens.spend(stored.id, now))) {
      return { userId: stored.userId, familyId: stored.familyId };
    }

    // Spent before, spent concurrently, or its family was revoked meanwhile: treat as reuse.
    const revoked = await this.tokens.revokeFamily(stored.familyId, now);
    this.logger.warn({
      msg: 'refresh token reuse detected; family revoked',
      userId: stored.userId,
      familyId: stored.familyId,
      revokedTokens: revoked,
    });
    throw new UnauthorizedException(INVALID_REFRESH_TOKEN);
  }

  /** Revokes every family of the user (logout-all, disabling). */
  async revokeAllOf(userId: string, now = new Date()): Promise<void> {
    const revoked = await this.tokens.revokeAllOfUser(userId, now);
    this.logger.log({ msg: 'every refresh token family of the user revoked', userId, revokedTokens: revoked });
  }

  /** Revokes the family of `refreshToken` when it belongs to `userId`; anything else changes nothing. */
  async revokeFamilyOf(userId: string, refreshToken: string): Promise<void> {
    const stored = await this.tokens.findByHash(hashRefreshToken(refreshToken));
    if (!stored || stored.userId !== userId) {
      this.logger.debug({ msg: 'logout with a refresh token the caller does not own', userId });
      return;
    }
    await this.tokens.revokeFamily(stored.familyId, new Date());
  }
}
