import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, QueryResult } from 'typeorm';
import {
  Claim,
  IDEMPOTENCY_KEY_TTL_MS,
  IdempotencyStore,
  IN_FLIGHT_TTL_MS,
  Reservation,
  StoredResponse,
} from './idempotency-store';

/** How often rows past their expiry are deleted (an expired row already counts as absent). */
export const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/** A row changes hands at most this often within one claim (it expired between two statements). */
const CLAIM_ATTEMPTS = 3;

interface KeyRow {
  fingerprint: string;
  status: 'in-flight' | 'completed';
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
}

export interface DatabaseIdempotencyStoreOptions {
  inFlightTtlMs?: number;
  keyTtlMs?: number;
  now?: () => Date;
}

/**
 * Idempotency keys in the `idempotency_keys` table (PostgreSQL or SQLite), primary key
 * (user_id, key). The in-flight marker is an insert that only one request can win: one upsert that
 * inserts the row, or takes over a row whose `expires_at` has passed, and returns the row's new
 * `token` only to the request that wrote it. Every later write names that token, so a request whose
 * marker expired and was taken over cannot overwrite the new holder. Expired rows are swept every
 * SWEEP_INTERVAL_MS by every process (an indexed delete; running it twice costs nothing).
 */
export class DatabaseIdempotencyStore implements IdempotencyStore, OnApplicationBootstrap, OnModuleDestroy {
  readonly kind = 'database';
  private readonly logger = new Logger(DatabaseIdempotencyStore.name);
  private readonly inFlightTtlMs: number;
  private readonly keyTtlMs: number;
  private readonly now: () => Date;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    options: DatabaseIdempotencyStoreOptions = {},
  ) {
    this.inFlightTtlMs = options.inFlightTtlMs ?? IN_FLIGHT_TTL_MS;
    this.keyTtlMs = options.keyTtlMs ?? IDEMPOTENCY_KEY_TTL_MS;
    this.now = options.now ?? (() => new Date());
  }

  async claim(userId: string, key: string, fingerprint: string): Promise<Claim> {
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const now = this.now();
      const token = randomUUID();
      const won = await this.run(
        `INSERT INTO "idempotency_keys"
           ("user_id", "key", "fingerprint", "status", "token", "created_at", "expires_at")
         VALUES (:userId, :key, :fingerprint, 'in-flight', :token, :now, :inFlightUntil)
         ON CONFLICT ("user_id", "key") DO UPDATE SET
           "fingerprint" = excluded."fingerprint", "status" = excluded."status", "token" = excluded."token",
           "response_status" = NULL, "response_headers" = NULL, "response_body" = NULL,
           "created_at" = excluded."created_at", "expires_at" = excluded."expires_at"
         WHERE "idempotency_keys"."expires_at" <= :now
         RETURNING "token"`,
        { userId, key, fingerprint, token, now, inFlightUntil: new Date(now.getTime() + this.inFlightTtlMs) },
      );
      if (won.records.length === 1) {
        return { kind: 'reserved', reservation: { userId, key, fingerprint, token, createdAt: now } };
      }
      const [row] = (
        await this.run(
          `SELECT "fingerprint", "status", "response_status", "response_headers", "response_body"
           FROM "idempotency_keys" WHERE "user_id" = :userId AND "key" = :key AND "expires_at" > :now`,
          { userId, key, now },
        )
      ).records as KeyRow[];
      // No row: it expired between the two statements; the next upsert takes it over.
      if (row) return claimFromRow(row, fingerprint);
    }
    throw new Error(`idempotency key changed hands ${CLAIM_ATTEMPTS} times during one claim`);
  }

  async complete(reservation: Reservation, response: StoredResponse): Promise<boolean> {
    const result = await this.run(
      `UPDATE "idempotency_keys" SET "status" = 'completed', "response_status" = :responseStatus,
         "response_headers" = :headers, "response_body" = :body, "expires_at" = :expiresAt
       WHERE "user_id" = :userId AND "key" = :key AND "token" = :token AND "status" = 'in-flight'
       RETURNING "token"`,
      {
        userId: reservation.userId,
        key: reservation.key,
        token: reservation.token,
        responseStatus: response.status,
        headers: JSON.stringify(response.headers),
        body: response.body,
        expiresAt: new Date(reservation.createdAt.getTime() + this.keyTtlMs),
      },
    );
    return result.records.length === 1;
  }

  async release(reservation: Reservation): Promise<void> {
    await this.run(
      `DELETE FROM "idempotency_keys"
       WHERE "user_id" = :userId AND "key" = :key AND "token" = :token AND "status" = 'in-flight'`,
      { userId: reservation.userId, key: reservation.key, token: reservation.token },
    );
  }

  /** Deletes every row past its expiry; returns how many. */
  async sweep(): Promise<number> {
    const result = await this.run(`DELETE FROM "idempotency_keys" WHERE "expires_at" <= :now`, { now: this.now() });
    return result.affected ?? 0;
  }

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => {
      this.sweep().then(
        (deleted) => deleted > 0 && this.logger.log({ msg: 'expired idempotency keys swept', deleted }),
        (error: unknown) => this.logger.warn({ msg: 'idempotency key sweep failed', err: error }),
      );
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
  }

  /** One statement with `:named` parameters on either driver (Dates converted per dialect). */
  private async run(sql: string, params: Record<string, unknown>): Promise<QueryResult> {
    const [query, parameters] = this.dataSource.driver.escapeQueryWithParameters(sql, params, {});
    const runner = this.dataSource.createQueryRunner();
    try {
      return (await runner.query(query, parameters, true)) as QueryResult;
    } finally {
      await runner.release();
    }
  }
}

function claimFromRow(row: KeyRow, fingerprint: string): Claim {
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch' };
  if (row.status === 'in-flight') return { kind: 'in-flight' };
  return {
    kind: 'replay',
    response: {
      status: Number(row.response_status),
      headers: JSON.parse(row.response_headers ?? '{}') as Record<string, string>,
      body: row.response_body ?? '',
    },
  };
}
