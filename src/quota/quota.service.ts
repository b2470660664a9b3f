import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, QueryResult, Repository } from 'typeorm';
import { AppConfig } from '../config/config.types';
import { AiUsage } from './entities/ai-usage.entity';
import { secondsUntilNextUtcDay, utcDay } from './utc-day';

export interface QuotaUsage {
  analysesToday: number;
  dailyLimit: number;
}

/**
 * Per-user daily quota of upstream AI analyses (AI_DAILY_LIMIT_PER_USER, per UTC day).
 *
 * Kept in the `ai_usage` table only, with no Redis layer: the count must survive restarts and be
 * shared by replicas, which the database already gives; one conditional upsert is atomic in both
 * PostgreSQL and SQLite; and it runs once per upstream call (seconds long and paid for), so the
 * write rate is tiny. A Redis counter in front would add a second source of truth to reconcile.
 */
@Injectable()
export class QuotaService {
  private readonly dailyLimit: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(AiUsage) private readonly usage: Repository<AiUsage>,
    config: ConfigService<AppConfig, true>,
  ) {
    this.dailyLimit = config.get('limits.aiDailyPerUser', { infer: true });
  }

  async usageToday(userId: string, at: Date = new Date()): Promise<QuotaUsage> {
    const row = await this.usage.findOneBy({ userId, day: utcDay(at) });
    return { analysesToday: row?.count ?? 0, dailyLimit: this.dailyLimit };
  }

  /**
   * Counts one upstream analysis for the UTC day of `at` when the user is under the limit, in one
   * atomic statement (concurrent calls can never overshoot). False when the quota is used up.
   */
  async tryConsume(userId: string, at: Date = new Date()): Promise<boolean> {
    if (this.dailyLimit <= 0) return false;
    const rows = await this.run(
      `INSERT INTO "ai_usage" ("user_id", "day", "count") VALUES (:userId, :day, 1)
       ON CONFLICT ("user_id", "day") DO UPDATE SET "count" = "ai_usage"."count" + 1
       WHERE "ai_usage"."count" < :limit
       RETURNING "count"`,
      { userId, day: utcDay(at), limit: this.dailyLimit },
    );
    return rows.length === 1;
  }

  /**
   * Gives back one analysis after the upstream call failed. `consumedAt` is when `tryConsume`
   * counted it, so a refund just after midnight goes to the right day. Never goes below zero.
   */
  async refund(userId: string, consumedAt: Date = new Date()): Promise<void> {
    await this.run(
      `UPDATE "ai_usage" SET "count" = "count" - 1
       WHERE "user_id" = :userId AND "day" = :day AND "count" > 0`,
      { userId, day: utcDay(consumedAt) },
    );
  }

  /** Seconds until the quota starts afresh (for a `Retry-After` on quota-exceeded). */
  secondsUntilReset(at: Date = new Date()): number {
    return secondsUntilNextUtcDay(at);
  }

  /** Runs one statement with `:named` parameters on either driver and returns the rows it yields. */
  private async run<T = unknown>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    const [query, parameters] = this.dataSource.driver.escapeQueryWithParameters(sql, params, {});
    const runner = this.dataSource.createQueryRunner();
    try {
      const result: QueryResult = await runner.query(query, parameters, true);
      return result.records as T[];
    } finally {
      await runner.release();
    }
  }
}
