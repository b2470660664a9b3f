import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, LessThan, QueryResult, Repository } from 'typeorm';
import { DeliveryStatus, WebhookDelivery } from '../entities/webhook-delivery.entity';
import type { KeysetCursor } from '../../common/pagination/keyset-cursor';
import type { WebhookDeliveryType } from '../webhook-events';

export type NewDelivery = Pick<WebhookDelivery, 'endpointId' | 'eventType' | 'dedupeKey' | 'payload'>;

/** A delivery the poller claimed: its attempt number is `attempts` (counted at the claim). */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventType: WebhookDeliveryType;
  payload: string;
  attempts: number;
}

/** What one attempt left on the row. */
export interface AttemptRecord {
  statusCode: number | null;
  error: string | null;
  response: string | null;
}

interface ClaimedRow {
  id: string;
  endpoint_id: string;
  event_type: WebhookDeliveryType;
  payload: string;
  attempts: number | string;
}

@Injectable()
export class WebhookDeliveriesRepository {
  private readonly skipLocked: string;

  constructor(
    @InjectRepository(WebhookDelivery) private readonly deliveries: Repository<WebhookDelivery>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    // PostgreSQL: replicas claiming at once each skip the rows another is claiming. SQLite has one
    // writer (one process) and no row locks: its UPDATE is atomic on its own.
    this.skipLocked = dataSource.options.type === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
  }

  /**
   * Queues each delivery due at `at`, once per (endpoint, dedupe key): a delivery already queued
   * under the key is left as it is. Returns the ids of the rows it inserted.
   */
  async insertPending(rows: NewDelivery[], at: Date, newId: () => string): Promise<string[]> {
    const inserted: string[] = [];
    for (const row of rows) {
      const { records } = await this.run<{ id: string }>(
        `INSERT INTO "webhook_deliveries"
           ("id", "endpoint_id", "event_type", "dedupe_key", "payload", "status", "attempts",
            "next_attempt_at", "created_at", "updated_at")
         VALUES (:id, :endpointId, :eventType, :dedupeKey, :payload, 'pending', 0, :at, :at, :at)
         ON CONFLICT ("endpoint_id", "dedupe_key") DO NOTHING
         RETURNING "id"`,
        { ...row, id: newId(), at },
      );
      inserted.push(...records.map((record) => record.id));
    }
    return inserted;
  }

  /** Up to `take` of the endpoint's deliveries older than `after`, newest first. */
  listByEndpoint(endpointId: string, after: KeysetCursor | undefined, take: number): Promise<WebhookDelivery[]> {
    const query = this.deliveries
      .createQueryBuilder('delivery')
      .where('delivery.endpointId = :endpointId', { endpointId });
    if (after) {
      query.andWhere('(delivery.createdAt < :createdAt OR (delivery.createdAt = :createdAt AND delivery.id < :id))', {
        createdAt: after.createdAt,
        id: after.id,
      });
    }
    return query.orderBy('delivery.createdAt', 'DESC').addOrderBy('delivery.id', 'DESC').limit(take).getMany();
  }

  /**
   * Takes up to `limit` pending deliveries due at `now` in one statement: counts the attempt and
   * leases the row until `leaseUntil` (a claim whose process dies is taken again after that).
   */
  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const { records } = await this.run<ClaimedRow>(
      `UPDATE "webhook_deliveries"
       SET "attempts" = "attempts" + 1, "next_attempt_at" = :leaseUntil, "updated_at" = :now
       WHERE "id" IN (
         SELECT "id" FROM "webhook_deliveries"
         WHERE "status" = 'pending' AND "next_attempt_at" <= :now
         ORDER BY "next_attempt_at"
         LIMIT :limit
         ${this.skipLocked}
       )
       RETURNING "id", "endpoint_id", "event_type", "payload", "attempts"`,
      { now, leaseUntil, limit },
    );
    return records.map((row) => ({
      id: row.id,
      endpointId: row.endpoint_id,
      eventType: row.event_type,
      payload: row.payload,
      attempts: Number(row.attempts),
    }));
  }

  /**
   * Writes the outcome of attempt `attempt`: `pending` with `nextAttemptAt` for a retry,
   * `succeeded` or `failed` (then no next attempt). False when the row moved on meanwhile (its
   * lease ran out and another claim counted a later attempt, or the endpoint was deleted).
   */
  async recordAttempt(
    id: string,
    attempt: number,
    status: DeliveryStatus,
    outcome: AttemptRecord,
    nextAttemptAt: Date | null,
    at: Date,
  ): Promise<boolean> {
    const { affected } = await this.deliveries.update(
      { id, attempts: attempt, status: 'pending' },
      {
        status,
        nextAttemptAt,
        lastStatusCode: outcome.statusCode,
        lastError: outcome.error?.slice(0, 512) ?? null,
        lastResponse: outcome.response,
        updatedAt: at,
      },
    );
    return (affected ?? 0) > 0;
  }

  /** Gives a claimed attempt back uncounted (shutdown): due again at once. */
  async release(id: string, attempt: number, at: Date): Promise<void> {
    await this.run(
      `UPDATE "webhook_deliveries" SET "attempts" = "attempts" - 1, "next_attempt_at" = :at, "updated_at" = :at
       WHERE "id" = :id AND "attempts" = :attempt AND "status" = 'pending'`,
      { id, attempt, at },
    );
  }

  /** Ends every pending delivery of the endpoint as failed (it was disabled). */
  async failPending(endpointId: string, error: string, at: Date): Promise<void> {
    await this.deliveries.update(
      { endpointId, status: 'pending' },
      { status: 'failed', nextAttemptAt: null, lastError: error, updatedAt: at },
    );
  }

  /** Deletes succeeded and failed deliveries last touched before `cutoff`; returns how many. */
  async deleteFinishedBefore(cutoff: Date): Promise<number> {
    const { affected } = await this.deliveries.delete({
      status: In(['succeeded', 'failed']),
      updatedAt: LessThan(cutoff),
    });
    return affected ?? 0;
  }

  /** Runs one statement with `:named` parameters on either driver: the rows it yields and its count. */
  private async run<T = unknown>(sql: string, params: Record<string, unknown>): Promise<{ records: T[] }> {
    const [query, parameters] = this.dataSource.driver.escapeQueryWithParameters(sql, params, {});
    const runner = this.dataSource.createQueryRunner();
    try {
      const result: QueryResult = await runner.query(query, parameters, true);
      return { records: result.records as T[] };
    } finally {
      await runner.release();
    }
  }
}
