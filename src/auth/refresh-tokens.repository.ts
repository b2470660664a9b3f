import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { RefreshToken } from './entities/refresh-token.entity';

export interface NewRefreshToken {
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
}

@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectRepository(RefreshToken) private readonly tokens: Repository<RefreshToken>) {}

  async insert(fields: NewRefreshToken, now: Date): Promise<RefreshToken> {
    const token = Object.assign(new RefreshToken(), {
      ...fields,
      id: randomUUID(),
      usedAt: null,
      revokedAt: null,
      createdAt: now,
    });
    await this.tokens.insert(token);
    return token;
  }

  findByHash(tokenHash: string): Promise<RefreshToken | null> {
    return this.tokens.findOneBy({ tokenHash });
  }

  /**
   * Marks the token used if — at this instant — it is unused, unrevoked, unexpired and its family
   * has not been revoked. One conditional UPDATE, so of two concurrent refreshes with one token
   * exactly one sees an affected row (row lock in PostgreSQL, single writer in SQLite). The family
   * check also stops a token that was inserted while its family was being revoked.
   */
  async spend(id: string, now: Date): Promise<boolean> {
    const result = await this.tokens
      .createQueryBuilder()
      .update(RefreshToken)
      .set({ usedAt: now })
      .where('id = :id', { id })
      .andWhere('used_at IS NULL')
      .andWhere('revoked_at IS NULL')
      .andWhere('expires_at > :now', { now })
      .andWhere(
        `NOT EXISTS (SELECT 1 FROM "refresh_tokens" "family"
           WHERE "family"."family_id" = "refresh_tokens"."family_id" AND "family"."revoked_at" IS NOT NULL)`,
      )
      .execute();
    return result.affected === 1;
  }

  /** Revokes every not yet revoked token of every family of the user; returns how many. */
  async revokeAllOfUser(userId: string, now: Date): Promise<number> {
    const result = await this.tokens
      .createQueryBuilder()
      .update(RefreshToken)
      .set({ revokedAt: now })
      .where('user_id = :userId', { userId })
      .andWhere('revoked_at IS NULL')
      .execute();
    return result.affected ?? 0;
  }

  /** Revokes every not yet revoked token of the family; returns how many. */
  async revokeFamily(familyId: string, now: Date): Promise<number> {
    const result = await this.tokens
      .createQueryBuilder()
      .update(RefreshToken)
      .set({ revokedAt: now })
      .where('family_id = :familyId', { familyId })
      .andWhere('revoked_at IS NULL')
      .execute();
    return result.affected ?? 0;
  }
}
