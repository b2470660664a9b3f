import type { DataSource } from 'typeorm';

/** One SQL statement with `:named` parameters (Dates and booleans are converted per dialect). */
export interface SqlStep {
  sql: string;
  params?: Record<string, unknown>;
}

/** What a step gives back: the rows it returned (SELECT, RETURNING) and the rows it changed. */
export interface SqlResult {
  rows: Record<string, unknown>[];
  affected: number;
}

/**
 * A unit of work as a generator: it yields statements and receives their results, so the same
 * code runs synchronously inside a SQLite transaction and asynchronously inside a PostgreSQL one.
 * Throwing rolls the whole unit back; units compose with `yield*`.
 */
export type AtomicWork<T> = Generator<SqlStep, T, SqlResult>;

export interface AtomicOptions<T> {
  /**
   * PostgreSQL: a transaction-scoped advisory lock (two 32-bit keys) taken before the first step
   * and held until commit, so units on the same key never interleave across processes. SQLite
   * has one writer process; callers that need the same exclusion there hold an in-process lock.
   */
  advisoryLock?: readonly [number, number];
  /**
   * Awaited once the steps are done: on PostgreSQL inside the transaction (the lock still held),
   * on SQLite right after the commit (its transactions cannot wait for I/O).
   */
  afterSteps?: (result: T) => Promise<void>;
}

export function sqlStep(sql: string, params: Record<string, unknown> = {}): SqlStep {
  return { sql, params };
}

/**
 * Runs `work` as one transaction of the app's database.
 *
 * SQLite (better-sqlite3) gets a native, synchronous transaction on the driver's one connection:
 * no other query of the process can run between its statements. TypeORM's transactions on that
 * connection would let other requests' statements slip in between (and be rolled back with it).
 */
export async function atomically<T>(
  dataSource: DataSource,
  work: () => AtomicWork<T>,
  options: AtomicOptions<T> = {},
): Promise<T> {
  if (dataSource.options.type === 'better-sqlite3') {
    const result = onSqlite(dataSource, work);
    await options.afterSteps?.(result);
    return result;
  }
  return onPostgres(dataSource, work, options);
}

interface SqliteStatement {
  reader: boolean;
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number };
}

interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  transaction<R>(fn: () => R): () => R;
}

function onSqlite<T>(dataSource: DataSource, work: () => AtomicWork<T>): T {
  const connection = (dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  const execute = (step: SqlStep): SqlResult => {
    const [query, parameters] = dataSource.driver.escapeQueryWithParameters(step.sql, step.params ?? {}, {});
    const statement = connection.prepare(query);
    if (statement.reader) {
      const rows = statement.all(...(parameters as unknown[]));
      return { rows, affected: rows.length };
    }
    return { rows: [], affected: statement.run(...(parameters as unknown[])).changes };
  };
  return connection.transaction(() => drive(work(), execute))();
}

async function onPostgres<T>(dataSource: DataSource, work: () => AtomicWork<T>, options: AtomicOptions<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const execute = async (step: SqlStep): Promise<SqlResult> => {
    const [query, parameters] = dataSource.driver.escapeQueryWithParameters(step.sql, step.params ?? {}, {});
    const result = await runner.query(query, parameters, true);
    const rows = Array.isArray(result.records) ? (result.records as Record<string, unknown>[]) : [];
    return { rows, affected: typeof result.affected === 'number' ? result.affected : rows.length };
  };
  try {
    await runner.startTransaction();
    try {
      if (options.advisoryLock) {
        const [namespace, key] = options.advisoryLock;
        await runner.query('SELECT pg_advisory_xact_lock($1, $2)', [namespace, key]);
      }
      const generator = work();
      let next = generator.next(undefined as unknown as SqlResult);
      while (!next.done) next = generator.next(await execute(next.value));
      await options.afterSteps?.(next.value);
      await runner.commitTransaction();
      return next.value;
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}

function drive<T>(generator: AtomicWork<T>, execute: (step: SqlStep) => SqlResult): T {
  let next = generator.next(undefined as unknown as SqlResult);
  while (!next.done) next = generator.next(execute(next.value));
  return next.value;
}
