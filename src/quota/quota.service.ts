import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryResult } from 'typeorm';
import { AppConfig } from '../config/config.types';
import { atomically, AtomicWork, sqlStep } from '../database/atomic';
import { secondsUntilNextUtcDay, utcDay } from './utc-day';

/** Where one analysis's unit of quota stands; each moves once, from `reserved`. */
export type ReservationState = 'reserved' | 'charged' | 'refunded';

/** Thrown inside a unit of work (`reserveSteps`) to roll it back: the user has no unit left today. */
export class QuotaExhausted extends Error {
  constructor() {
    super('daily AI quota exhausted');
    this.name = 'QuotaExhausted';
  }
}

/**
 * The daily limit of the user `:userId`, in SQL (PostgreSQL and SQLite): their own
 * `users.daily_limit`, else `:limit` (AI_DAILY_LIMIT_PER_USER).
 */
const LIMIT_OF_USER = `COALESCE((SELECT "daily_limit" FROM "users" WHERE "id" = :userId), :limit)`;

export interface QuotaUsage {
  analysesToday: number;
  dailyLimit: number;
}

/**
 * Per-user daily quota of upstream AI analyses, per UTC day: the account's own limit
 * (`users.daily_limit`, set by an admin with `PATCH /v1/admin/users/:id`) or, when it has none,
 * AI_DAILY_LIMIT_PER_USER. 0 means no upstream analysis at all. The limit is read inside the same
 * statement that counts (a sub-select), so a change applies to the very next reservation, on every
 * replica, and what `usageToday` reports is what is enforced.
 *
 * Kept in the `ai_usage` table only, with no Redis layer: the count must survive restarts and be
 * shared by replicas, which the database already gives; one conditional upsert is atomic in both
 * PostgreSQL and SQLite; and it runs once per upstream call (seconds long and paid for), so the
 * write rate is tiny. A Redis counter in front would add a second source of truth to reconcile.
 *
 * Analyses spend it through reservations keyed by the analysis id (`ai_usage_reservations`): a
 * unit is reserved when the job is accepted, then charged when its upstream call was made or
 * refunded when it failed or was answered from cache — each at most once, whatever the number of
 * deliveries, crashes or concurrent workers, because every move is a compare-and-set from
 * `reserved`.
 */
@Injectable()
export class QuotaService {
  private readonly dailyLimit: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: ConfigService<AppConfig, true>,
  ) {
    this.dailyLimit = config.get('limits.aiDailyPerUser', { infer: true });
  }

  /** Today's count and the limit that applies to the user (their own, else AI_DAILY_LIMIT_PER_USER). */
  async usageToday(userId: string, at: Date = new Date()): Promise<QuotaUsage> {
    const [row] = await this.run<{ count: number | string | null; daily_limit: number | string }>(
      `SELECT (SELECT "count" FROM "ai_usage" WHERE "user_id" = :userId AND "day" = :day) AS "count",
              ${LIMIT_OF_USER} AS "daily_limit"`,
      { userId, day: utcDay(at), limit: this.dailyLimit },
    );
    return { analysesToday: Number(row?.count ?? 0), dailyLimit: Number(row?.daily_limit ?? this.dailyLimit) };
  }

  /** The daily limit that applies to the user now: their own, else AI_DAILY_LIMIT_PER_USER. */
  async dailyLimitOf(userId: string): Promise<number> {
    return (await this.usageToday(userId)).dailyLimit;
  }

  /**
   * Counts one upstream analysis for the UTC day of `at` when the user is under the limit, in one
   * atomic statement (concurrent calls can never overshoot). False when the quota is used up.
   */
  async tryConsume(userId: string, at: Date = new Date()): Promise<boolean> {
    const { sql, params } = this.consumeStep(userId, utcDay(at));
    return (await this.run(sql, params ?? {})).length === 1;
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

  /**
   * Steps that reserve one unit for `analysisId` (for the caller's own unit of work, with `yield*`):
   * true when it holds one now — newly reserved, or reserved or charged earlier (a second delivery
   * reserves nothing more). Throws QuotaExhausted, rolling the unit back, when none is left today.
   */
  *reserveSteps(analysisId: string, userId: string, at: Date): AtomicWork<boolean> {
    const day = utcDay(at);
    const inserted = yield sqlStep(
      `INSERT INTO "ai_usage_reservations" ("analysis_id", "user_id", "day", "state", "created_at")
       VALUES (:analysisId, :userId, :day, 'reserved', :at)
       ON CONFLICT ("analysis_id") DO NOTHING
       RETURNING "analysis_id"`,
      { analysisId, userId, day, at },
    );
    if (inserted.rows.length === 0) {
      const existing = yield sqlStep(`SELECT "state" FROM "ai_usage_reservations" WHERE "analysis_id" = :analysisId`, {
        analysisId,
      });
      return existing.rows[0]?.state !== 'refunded';
    }
    const counted = yield this.consumeStep(userId, day);
    if (counted.rows.length === 0) throw new QuotaExhausted();
    return true;
  }

  /** Reserves one unit for `analysisId` (see reserveSteps); false when the user has none left today. */
  async reserve(analysisId: string, userId: string, at: Date = new Date()): Promise<boolean> {
    try {
      return await atomically(this.dataSource, () => this.reserveSteps(analysisId, userId, at));
    } catch (error) {
      if (error instanceof QuotaExhausted) return false;
      throw error;
    }
  }

  /** Steps that mark the reservation of `analysisId` spent on an upstream call; true when they moved it. */
  *chargeSteps(analysisId: string): AtomicWork<boolean> {
    const charged = yield sqlStep(
      `UPDATE "ai_usage_reservations" SET "state" = 'charged', "settled_at" = :at
       WHERE "analysis_id" = :analysisId AND "state" = 'reserved'
       RETURNING "analysis_id"`,
      { analysisId, at: new Date() },
    );
    return charged.rows.length === 1;
  }

  /** Charges the unit reserved for `analysisId` (see chargeSteps). */
  charge(analysisId: string): Promise<boolean> {
    return atomically(this.dataSource, () => this.chargeSteps(analysisId));
  }

  /**
   * Steps that give back the unit reserved for `analysisId`, once: a charged, refunded or missing
   * reservation gives back nothing. True when these steps refunded it.
   */
  *refundSteps(analysisId: string): AtomicWork<boolean> {
    const settled = yield sqlStep(
      `UPDATE "ai_usage_reservations" SET "state" = 'refunded', "settled_at" = :at
       WHERE "analysis_id" = :analysisId AND "state" = 'reserved'
       RETURNING "user_id", CAST("day" AS TEXT) AS "day"`,
      { analysisId, at: new Date() },
    );
    const reservation = settled.rows[0];
    if (!reservation) return false;
    yield sqlStep(
      `UPDATE "ai_usage" SET "count" = "count" - 1 WHERE "user_id" = :userId AND "day" = :day AND "count" > 0`,
      { userId: reservation.user_id, day: reservation.day },
    );
    return true;
  }

  /** Refunds the unit reserved for `analysisId` (see refundSteps). */
  refundReservation(analysisId: string): Promise<boolean> {
    return atomically(this.dataSource, () => this.refundSteps(analysisId));
  }

  /** Where the reservation of `analysisId` stands; undefined when it never reserved one. */
  async reservationState(analysisId: string): Promise<ReservationState | undefined> {
    const rows = await this.run<{ state: ReservationState }>(
      `SELECT "state" FROM "ai_usage_reservations" WHERE "analysis_id" = :analysisId`,
      { analysisId },
    );
    return rows[0]?.state;
  }

  /** Seconds until the quota starts afresh (for a `Retry-After` on quota-exceeded). */
  secondsUntilReset(at: Date = new Date()): number {
    return secondsUntilNextUtcDay(at);
  }

  /**
   * Counts one unit for the user's `day` when under the user's limit (LIMIT_OF_USER); yields the
   * new count, or no row. One statement: the first unit of the day is inserted only under a limit
   * above 0, a later one only below the limit, so concurrent calls never overshoot it.
   */
  private consumeStep(userId: string, day: string) {
    return sqlStep(
      `INSERT INTO "ai_usage" ("user_id", "day", "count")
       SELECT :userId, :day, 1 WHERE ${LIMIT_OF_USER} > 0
       ON CONFLICT ("user_id", "day") DO UPDATE SET "count" = "ai_usage"."count" + 1
       WHERE "ai_usage"."count" < ${LIMIT_OF_USER}
       RETURNING "count"`,
      { userId, day, limit: this.dailyLimit },
    );
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
