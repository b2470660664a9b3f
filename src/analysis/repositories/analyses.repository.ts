import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, In, QueryResult, Repository } from 'typeorm';
import { atomically, AtomicWork, sqlStep } from '../../database/atomic';
import type { JobStore, QueueStats, StrandedJob } from '../../jobs/job-queue';
import type { KeysetCursor } from '../../common/pagination/keyset-cursor';
import type { AnalysisModeration, AnalysisResult, AnalysisUsage, StoredAnalysisProblem } from '../analysis.types';
import { Analysis } from '../entities/analysis.entity';
import type { ImageFingerprint } from '../near-duplicate/image-fingerprint';
import { KeyedMutex } from './keyed-mutex';

export type NewAnalysis = Omit<Analysis, 'id' | 'createdAt'>;

/** What a worker writes when a job succeeds. */
export interface AnalysisAnswer {
  provider: string;
  model: string;
  cacheKey: string;
  result: AnalysisResult;
  usage: AnalysisUsage;
  cached: boolean;
  /** How a cached answer was found; null when this job's own call produced it. */
  cacheKind: Analysis['cacheKind'];
  moderation: AnalysisModeration | null;
}

/** What deleting an analysis did. */
export interface DeletedAnalysis {
  analysis: Analysis;
  /** True when no other analysis used its image, so the image was removed too. */
  imageRemoved: boolean;
}

/** Namespace of the PostgreSQL advisory locks that make "image in use" and "row inserted" one decision. */
const IMAGE_LOCK_NAMESPACE = 0x41524731;

const UNFINISHED = `"status" IN ('queued', 'running')`;
const CLAIMABLE = `("status" = 'queued' OR ("status" = 'running' AND "lease_until" < :now))`;

/**
 * The analyses table: history, the jobs' source of truth (JobStore: claims and leases by
 * compare-and-set) and the durable result cache.
 */
@Injectable()
export class AnalysesRepository implements JobStore<Analysis> {
  private readonly postgres: boolean;
  /** SQLite only: one process writes the embedded database, so an in-process lock is enough. */
  private readonly imageLocks = new KeyedMutex();

  constructor(
    @InjectRepository(Analysis) private readonly analyses: Repository<Analysis>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.postgres = dataSource.options.type === 'postgres';
  }

  /** A new row (not yet written) with its id and creation time. */
  create(fields: NewAnalysis): Analysis {
    return Object.assign(new Analysis(), { id: randomUUID(), createdAt: new Date(), ...fields });
  }

  /** Steps that write the row (for a unit of work with other steps, such as the quota reservation). */
  *insertSteps(analysis: Analysis): AtomicWork<void> {
    yield sqlStep(
      `INSERT INTO "analyses" ("id", "user_id", "sha256", "prompt", "metadata", "status", "attempts", "lease_until",
         "worker_id", "request_id", "cache_key", "provider", "model", "result", "error", "image_format", "image_width",
         "image_height", "image_bytes", "input_tokens", "output_tokens", "cost_usd", "cached", "created_at", "completed_at",
         "cache", "phash", "phash_b0", "phash_b1", "phash_b2", "phash_b3", "colour_layout", "moderation")
       VALUES (:id, :userId, :sha256, :prompt, :metadata, :status, :attempts, :leaseUntil, :workerId, :requestId,
         :cacheKey, :provider, :model, :result, :error, :imageFormat, :imageWidth, :imageHeight, :imageBytes,
         :inputTokens, :outputTokens, :costUsd, :cached, :createdAt, :completedAt,
         :cacheKind, :phash, :phashB0, :phashB1, :phashB2, :phashB3, :colourLayout, :moderation)`,
      {
        ...analysis,
        metadata: JSON.stringify(analysis.metadata),
        result: analysis.result === null ? null : JSON.stringify(analysis.result),
        error: analysis.error === null ? null : JSON.stringify(analysis.error),
        moderation: analysis.moderation ? JSON.stringify(analysis.moderation) : null,
      },
    );
  }

  /**
   * Runs `work` so that it never interleaves with another unit on the same image (`sha256`): a
   * PostgreSQL advisory lock held until commit, or an in-process lock on SQLite. `whileLocked` runs
   * after the steps, before the lock is let go (file removal on delete).
   */
  withImageLock<T>(sha256: string, work: () => AtomicWork<T>, whileLocked?: (result: T) => Promise<void>): Promise<T> {
    if (this.postgres) {
      return atomically(this.dataSource, work, { advisoryLock: imageLockKey(sha256), afterSteps: whileLocked });
    }
    return this.imageLocks.run(sha256, () => atomically(this.dataSource, work, { afterSteps: whileLocked }));
  }

  /** Runs `work` (steps of this repository and others, such as the quota's) as one transaction. */
  transact<T>(work: () => AtomicWork<T>): Promise<T> {
    return atomically(this.dataSource, work);
  }

  /**
   * Removes the stored image of `sha256` through `removeImage` unless an analysis uses it — under
   * the image's lock, like a delete (for an upload refused after its image was stored).
   */
  async releaseImage(sha256: string, removeImage: () => Promise<void>): Promise<void> {
    await this.withImageLock(
      sha256,
      function* () {
        const used = yield sqlStep(`SELECT 1 AS "used" FROM "analyses" WHERE "sha256" = :sha256 LIMIT 1`, { sha256 });
        return used.rows.length > 0;
      },
      async (used) => {
        if (!used) await removeImage();
      },
    );
  }

  /** The user's analysis, or null when it does not exist or belongs to someone else. */
  findOwned(userId: string, id: string): Promise<Analysis | null> {
    return this.analyses.findOneBy({ id, userId });
  }

  findById(id: string): Promise<Analysis | null> {
    return this.analyses.findOneBy({ id });
  }

  /** The analysis once it succeeded or failed; undefined while queued or running (or gone). */
  async findFinished(id: string): Promise<Analysis | undefined> {
    const analysis = await this.analyses.findOneBy({ id, status: In(['succeeded', 'failed']) });
    return analysis ?? undefined;
  }

  /** Up to `take` of the user's analyses older than `after`, newest first (keyset pagination). */
  listByUser(userId: string, after: KeysetCursor | undefined, take: number): Promise<Analysis[]> {
    const query = this.analyses.createQueryBuilder('analysis').where('analysis.userId = :userId', { userId });
    if (after) {
      query.andWhere('(analysis.createdAt < :createdAt OR (analysis.createdAt = :createdAt AND analysis.id < :id))', {
        createdAt: after.createdAt,
        id: after.id,
      });
    }
    return query.orderBy('analysis.createdAt', 'DESC').addOrderBy('analysis.id', 'DESC').limit(take).getMany();
  }

  /**
   * The durable result cache: the newest succeeded analysis with this cache key answered since
   * `since`, of `userId` only when given (ANALYSIS_CACHE_SCOPE=user).
   */
  async findAnswered(cacheKey: string, since: Date, userId: string | undefined): Promise<Analysis | undefined> {
    const query = this.analyses
      .createQueryBuilder('analysis')
      .where('analysis.cacheKey = :cacheKey', { cacheKey })
      .andWhere(`analysis.status = 'succeeded'`)
      .andWhere('analysis.createdAt >= :since', { since });
    if (userId !== undefined) query.andWhere('analysis.userId = :userId', { userId });
    return (await query.orderBy('analysis.createdAt', 'DESC').limit(1).getOne()) ?? undefined;
  }

  /** The fingerprint an earlier analysis of these bytes stored, or null (docs/api.md, "Near-duplicates"). */
  async findFingerprint(sha256: string): Promise<ImageFingerprint | null> {
    const row = await this.analyses
      .createQueryBuilder('analysis')
      .select(['analysis.phash AS phash', 'analysis.colour_layout AS colour_layout'])
      .where('analysis.sha256 = :sha256', { sha256 })
      .andWhere('analysis.phash IS NOT NULL')
      .andWhere('analysis.colour_layout IS NOT NULL')
      .limit(1)
      .getRawOne<{ phash: string; colour_layout: string }>();
    return row ? { phash: row.phash, colourLayout: row.colour_layout } : null;
  }

  /** True while a job for the same answer is queued or running (of `userId` only when given). */
  async hasUnfinished(cacheKey: string, userId: string | undefined): Promise<boolean> {
    const query = this.analyses
      .createQueryBuilder('analysis')
      .where('analysis.cacheKey = :cacheKey', { cacheKey })
      .andWhere(`analysis.status IN ('queued', 'running')`);
    if (userId !== undefined) query.andWhere('analysis.userId = :userId', { userId });
    return (await query.getCount()) > 0;
  }

  /**
   * Deletes the user's analysis and, when no other analysis (of anyone) uses its image, lets
   * `removeImage` remove it — both under the image's lock, which every insert of a row with the same
   * image also takes, so an upload of the same bytes racing the delete keeps its image. Null when
   * there was nothing to delete.
   */
  async deleteOwned(
    userId: string,
    id: string,
    removeImage: (analysis: Analysis) => Promise<void>,
  ): Promise<DeletedAnalysis | null> {
    const analysis = await this.findOwned(userId, id);
    if (!analysis) return null;
    const outcome = await this.withImageLock(
      analysis.sha256,
      function* () {
        const deleted = yield sqlStep(
          `DELETE FROM "analyses" WHERE "id" = :id AND "user_id" = :userId RETURNING "status"`,
          {
            id,
            userId,
          },
        );
        // A concurrent delete of the same analysis got there first: it answers 204, this one 404.
        if (deleted.rows.length === 0) return undefined;
        const used = yield sqlStep(`SELECT 1 AS "used" FROM "analyses" WHERE "sha256" = :sha256 LIMIT 1`, {
          sha256: analysis.sha256,
        });
        analysis.status = deleted.rows[0].status as Analysis['status'];
        return { imageRemoved: used.rows.length === 0 };
      },
      async (deleted) => {
        if (deleted?.imageRemoved) await removeImage(analysis);
      },
    );
    return outcome ? { analysis, imageRemoved: outcome.imageRemoved } : null;
  }

  // --- JobStore ---

  async claim(id: string, workerId: string, leaseUntil: Date): Promise<Analysis | undefined> {
    const claimed = await this.run(
      `UPDATE "analyses" SET "status" = 'running', "attempts" = "attempts" + 1, "lease_until" = :leaseUntil,
         "worker_id" = :workerId
       WHERE "id" = :id AND ${CLAIMABLE}
       RETURNING "id"`,
      { id, workerId, leaseUntil, now: new Date() },
    );
    if (claimed.length === 0) return undefined;
    return (await this.findById(id)) ?? undefined;
  }

  async claimReady(limit: number, workerId: string, leaseUntil: Date): Promise<Analysis[]> {
    // One statement: on SQLite (one writer) it is atomic as it stands; on PostgreSQL `SKIP LOCKED`
    // lets concurrent workers claim different rows instead of queueing behind each other.
    const claimed = await this.run<{ id: string }>(
      `UPDATE "analyses" SET "status" = 'running', "attempts" = "attempts" + 1, "lease_until" = :leaseUntil,
         "worker_id" = :workerId
       WHERE ${CLAIMABLE} AND "id" IN (
         SELECT "id" FROM "analyses" WHERE ${CLAIMABLE} ORDER BY "created_at" LIMIT :limit
         ${this.postgres ? 'FOR UPDATE SKIP LOCKED' : ''})
       RETURNING "id"`,
      { workerId, leaseUntil, now: new Date(), limit },
    );
    if (claimed.length === 0) return [];
    const rows = await this.analyses.findBy({ id: In(claimed.map((row) => row.id)) });
    return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async renew(id: string, workerId: string, leaseUntil: Date): Promise<boolean> {
    const renewed = await this.run(
      `UPDATE "analyses" SET "lease_until" = :leaseUntil
       WHERE "id" = :id AND "status" = 'running' AND "worker_id" = :workerId
       RETURNING "id"`,
      { id, workerId, leaseUntil },
    );
    return renewed.length === 1;
  }

  async release(id: string, workerId: string): Promise<boolean> {
    const released = await this.run(
      `UPDATE "analyses" SET "status" = 'queued', "lease_until" = NULL, "worker_id" = NULL
       WHERE "id" = :id AND "status" = 'running' AND "worker_id" = :workerId
       RETURNING "id"`,
      { id, workerId },
    );
    return released.length === 1;
  }

  async stranded(waitingSince: Date, now: Date, limit: number): Promise<StrandedJob[]> {
    const rows = await this.run<{ id: string; attempts: number | string }>(
      `SELECT "id", "attempts" FROM "analyses"
       WHERE ("status" = 'queued' AND "created_at" < :waitingSince) OR ("status" = 'running' AND "lease_until" < :now)
       ORDER BY "created_at" LIMIT :limit`,
      { waitingSince, now, limit },
    );
    return rows.map((row) => ({ id: row.id, attempts: Number(row.attempts) }));
  }

  async stats(now: Date): Promise<QueueStats> {
    const rows = await this.run<{ status: string; jobs: number | string; oldest: Date | string | null }>(
      `SELECT "status", COUNT(*) AS "jobs", MIN("created_at") AS "oldest" FROM "analyses" WHERE ${UNFINISHED} GROUP BY "status"`,
      {},
    );
    const count = (status: string) => Number(rows.find((row) => row.status === status)?.jobs ?? 0);
    const oldest = Math.min(...rows.map((row) => toDate(row.oldest)?.getTime() ?? Infinity));
    return {
      waiting: count('queued'),
      active: count('running'),
      oldestAgeSeconds: Number.isFinite(oldest) ? Math.max(0, (now.getTime() - oldest) / 1000) : 0,
    };
  }

  /**
   * Steps that end a job this worker holds as `succeeded` (compare-and-set): true when they did;
   * false when the job is no longer this worker's (its lease was lost, or it was deleted).
   */
  *succeedSteps(id: string, workerId: string, answer: AnalysisAnswer, at: Date): AtomicWork<boolean> {
    const done = yield sqlStep(
      `UPDATE "analyses" SET "status" = 'succeeded', "provider" = :provider, "model" = :model, "cache_key" = :cacheKey,
         "result" = :result, "error" = NULL, "cached" = :cached, "input_tokens" = :inputTokens,
         "output_tokens" = :outputTokens, "cost_usd" = :costUsd, "completed_at" = :at, "lease_until" = NULL,
         "cache" = :cacheKind, "moderation" = :moderation
       WHERE "id" = :id AND "status" = 'running' AND "worker_id" = :workerId
       RETURNING "id"`,
      {
        id,
        workerId,
        at,
        provider: answer.provider,
        model: answer.model,
        cacheKey: answer.cacheKey,
        result: JSON.stringify(answer.result),
        cached: answer.cached,
        cacheKind: answer.cacheKind,
        moderation: answer.moderation ? JSON.stringify(answer.moderation) : null,
        ...answer.usage,
      },
    );
    return done.rows.length === 1;
  }

  /** Steps that end a job this worker holds as `failed` with `error` (compare-and-set, as succeedSteps). */
  *failSteps(id: string, workerId: string, error: StoredAnalysisProblem, at: Date): AtomicWork<boolean> {
    const done = yield sqlStep(
      `UPDATE "analyses" SET "status" = 'failed', "error" = :error, "completed_at" = :at, "lease_until" = NULL
       WHERE "id" = :id AND "status" = 'running' AND "worker_id" = :workerId
       RETURNING "id"`,
      { id, workerId, at, error: JSON.stringify(error) },
    );
    return done.rows.length === 1;
  }

  /** Runs one statement with `:named` parameters and returns the rows it yields. */
  private async run<T = Record<string, unknown>>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    const [query, parameters] = this.dataSource.driver.escapeQueryWithParameters(sql, params, {});
    const runner = this.dataSource.createQueryRunner();
    try {
      const result: QueryResult = await runner.query(query, parameters, true);
      return (Array.isArray(result.records) ? result.records : []) as T[];
    } finally {
      await runner.release();
    }
  }
}

/** The two 32-bit keys of an image's advisory lock; unrelated images sharing one only wait for each other. */
function imageLockKey(sha256: string): [number, number] {
  return [IMAGE_LOCK_NAMESPACE, Number.parseInt(sha256.slice(0, 8), 16) | 0];
}

/** A timestamp as a raw query returns it: a Date (PostgreSQL) or UTC `YYYY-MM-DD HH:MM:SS.SSS` text (SQLite). */
function toDate(value: Date | string | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value;
  return new Date(`${value.replace(' ', 'T')}Z`);
}
