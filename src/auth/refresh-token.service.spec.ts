import { Logger, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/config.types';
import { RefreshToken } from './entities/refresh-token.entity';
import { generateRefreshToken, hashRefreshToken, RefreshTokenService } from './refresh-token.service';
import { NewRefreshToken, RefreshTokensRepository } from './refresh-tokens.repository';

/** In-memory stand-in with the repository's public surface and semantics. */
class InMemoryRefreshTokens implements Pick<RefreshTokensRepository, keyof RefreshTokensRepository> {
  readonly rows: RefreshToken[] = [];

  async insert(fields: NewRefreshToken, now: Date): Promise<RefreshToken> {
    const row = Object.assign(new RefreshToken(), {
      ...fields,
      id: `id-${this.rows.length}`,
      usedAt: null,
      revokedAt: null,
      createdAt: now,
    });
    this.rows.push(row);
    return row;
  }

  async findByHash(tokenHash: string): Promise<RefreshToken | null> {
    return this.rows.find((row) => row.tokenHash === tokenHash) ?? null;
  }

  async spend(id: string, now: Date): Promise<boolean> {
    const row = this.rows.find((candidate) => candidate.id === id);
    const familyRevoked = this.rows.some((other) => other.familyId === row?.familyId && other.revokedAt);
    if (!row || row.usedAt || row.revokedAt || row.expiresAt <= now || familyRevoked) return false;
    row.usedAt = now;
    return true;
  }

  async revokeAllOfUser(userId: string, now: Date): Promise<number> {
    const live = this.rows.filter((row) => row.userId === userId && !row.revokedAt);
    for (const row of live) row.revokedAt = now;
    return live.length;
  }

  async revokeFamily(familyId: string, now: Date): Promise<number> {
    const live = this.rows.filter((row) => row.familyId === familyId && !row.revokedAt);
    for (const row of live) row.revokedAt = now;
    return live.length;
  }
}

describe('refresh token values', () => {
  it('are 256 random bits, base64url', () => {
    const token = generateRefreshToken();

    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
  });

  it('never repeat', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateRefreshToken()));
    expect(tokens.size).toBe(1000);
  });

  it('are stored as a hex SHA-256 that is stable and reveals nothing of the token', () => {
    const token = generateRefreshToken();
    const hash = hashRefreshToken(token);

    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(token)).toBe(hash);
    expect(hashRefreshToken(generateRefreshToken())).not.toBe(hash);
    expect(hash).not.toContain(token);
  });
});

describe('RefreshTokenService', () => {
  let store: InMemoryRefreshTokens;
  let sut: RefreshTokenService;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    store = new InMemoryRefreshTokens();
    const config = new ConfigService<AppConfig, true>({ auth: { refreshTtlSeconds: 3600 } });
    sut = new RefreshTokenService(store as unknown as RefreshTokensRepository, config);
  });

  it('stores only the hash, with the configured lifetime', async () => {
    const before = Date.now();
    const { refreshToken } = await sut.issue('user-1');

    expect(store.rows).toHaveLength(1);
    expect(store.rows[0].tokenHash).toBe(hashRefreshToken(refreshToken));
    expect(JSON.stringify(store.rows)).not.toContain(refreshToken);
    expect(store.rows[0].expiresAt.getTime() - before).toBeGreaterThanOrEqual(3600_000);
    expect(store.rows[0].expiresAt.getTime() - before).toBeLessThan(3600_000 + 5000);
  });

  it('spends a live token once and tells whose it was', async () => {
    const { refreshToken, familyId } = await sut.issue('user-1');

    await expect(sut.spend(refreshToken)).resolves.toEqual({ userId: 'user-1', familyId });
    expect(store.rows[0].usedAt).toBeInstanceOf(Date);
  });

  it('revokes the whole family, newest token included, when a spent token comes back', async () => {
    const first = await sut.issue('user-1');
    await sut.spend(first.refreshToken);
    const second = await sut.issue('user-1', first.familyId);

    await expect(sut.spend(first.refreshToken)).rejects.toBeInstanceOf(UnauthorizedException);
    expect(store.rows.every((row) => row.revokedAt)).toBe(true);
    await expect(sut.spend(second.refreshToken)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('leaves other families alone on reuse', async () => {
    const mine = await sut.issue('user-1');
    const other = await sut.issue('user-1');
    await sut.spend(mine.refreshToken);

    await expect(sut.spend(mine.refreshToken)).rejects.toBeInstanceOf(UnauthorizedException);
    await expect(sut.spend(other.refreshToken)).resolves.toEqual({ userId: 'user-1', familyId: other.familyId });
  });

  it('refuses an unknown token', async () => {
    await expect(sut.spend(generateRefreshToken())).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('refuses an expired token without revoking its family', async () => {
    const { refreshToken } = await sut.issue('user-1');
    store.rows[0].expiresAt = new Date(Date.now() - 1000);

    await expect(sut.spend(refreshToken)).rejects.toBeInstanceOf(UnauthorizedException);
    expect(store.rows[0].revokedAt).toBeNull();
  });

  it("revokes a family on logout only with the owner's token", async () => {
    const { refreshToken } = await sut.issue('user-1');

    await sut.revokeFamilyOf('user-2', refreshToken);
    expect(store.rows[0].revokedAt).toBeNull();

    await sut.revokeFamilyOf('user-1', refreshToken);
    expect(store.rows[0].revokedAt).toBeInstanceOf(Date);
    await expect(sut.spend(refreshToken)).rejects.toBeInstanceOf(UnauthorizedException);
  });
});
