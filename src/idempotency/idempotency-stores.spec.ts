import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CreateIdempotencyKeys1795615000500 as PostgresMigration } from '../database/migrations/postgres/1795615000500-CreateIdempotencyKeys';
import { CreateIdempotencyKeys1795615000500 as SqliteMigration } from '../database/migrations/sqlite/1795615000500-CreateIdempotencyKeys';
import { DatabaseIdempotencyStore } from './database-idempotency.store';
import { IdempotencyStore, Reservation, StoredResponse } from './idempotency-store';
import { RedisIdempotencyStore } from './redis-idempotency.store';

const IN_FLIGHT_TTL_MS = 300;
const KEY_TTL_MS = 900;
const USER_A = '00000000-0000-4000-8000-00000000000a';
const USER_B = '00000000-0000-4000-8000-00000000000b';
const FP = 'f'.repeat(64);
const OTHER_FP = 'e'.repeat(64);
const RESPONSE: StoredResponse = {
  status: 201,
  headers: { 'content-type': 'application/json; charset=utf-8', location: '/v1/things/1' },
  body: '{"id":"1","note":"ünïcode ✓"}',
};

/** One store under test, with a way to move its clock past a TTL. */
interface Subject {
  store: IdempotencyStore;
  /** Lets `ms` pass for the store (a fake clock, or real time for Redis' own expiry). */
  pass(ms: number): Promise<void>;
  close(): Promise<void>;
}

async function sqliteSubject(): Promise<Subject> {
  return databaseSubject(
    new DataSource({ type: 'better-sqlite3', database: ':memory:', migrations: [SqliteMigration] }),
    'varchar(36)',
  );
}

async function postgresSubject(adminUrl: string): Promise<Subject> {
  const name = `argus_test_idempotency_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const subject = await databaseSubject(
    new DataSource({ type: 'postgres', url: url.toString(), migrations: [PostgresMigration] }),
    'uuid',
  );
  return { ...subject, close: async () => (await subject.close(), admin(`DROP DATABASE ${name} WITH (FORCE)`)) };
}

async function databaseSubject(dataSource: DataSource, idType: string): Promise<Subject> {
  await dataSource.initialize();
  // The table's foreign key needs its parent; the rest of the schema is not this room's.
  await dataSource.query(`CREATE TABLE "users" ("id" ${idType} PRIMARY KEY)`);
  await dataSource.query(`INSERT INTO "users" ("id") VALUES ('${USER_A}'), ('${USER_B}')`);
  await dataSource.runMigrations();
  let now = Date.parse('2030-01-01T00:00:00Z');
  const store = new DatabaseIdempotencyStore(dataSource, {
    inFlightTtlMs: IN_FLIGHT_TTL_MS,
    keyTtlMs: KEY_TTL_MS,
    now: () => new Date(now),
  });
  return {
    store,
    pass: async (ms) => {
      now += ms;
    },
    close: () => dataSource.destroy(),
  };
}

async function redisSubject(url: string): Promise<Subject | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  try {
    await client.connect();
  } catch {
    client.disconnect();
    return undefined;
  }
  const prefix = `argus-unit-${randomUUID()}:`;
  const store = new RedisIdempotencyStore(client, (userId, key) => `${prefix}idempotency:${userId}:${key}`, {
    inFlightTtlMs: IN_FLIGHT_TTL_MS,
    keyTtlMs: KEY_TTL_MS,
  });
  return {
    store,
    pass: (ms) => sleep(ms + 50),
    close: async () => {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    },
  };
}

const subjects: [string, () => Promise<Subject | undefined>][] = [
  ['database (SQLite)', sqliteSubject],
  ...(process.env.TEST_DATABASE_URL
    ? [
        ['database (PostgreSQL)', () => postgresSubject(process.env.TEST_DATABASE_URL!)] as [
          string,
          () => Promise<Subject>,
        ],
      ]
    : []),
  ['redis', () => redisSubject(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379')],
];

describe.each(subjects)('%s idempotency store', (_name, open) => {
  let subject: Subject | undefined;
  let sut: IdempotencyStore;
  let key: string;

  beforeAll(async () => {
    subject = await open();
    if (!subject) console.warn('skipped: no Redis server reachable');
    else sut = subject.store;
  });
  afterAll(() => subject?.close());
  beforeEach(() => {
    key = `key-${randomUUID()}`;
  });

  async function reserve(userId = USER_A, fingerprint = FP): Promise<Reservation> {
    const claim = await sut.claim(userId, key, fingerprint);
    if (claim.kind !== 'reserved') throw new Error(`expected the key to be free, got ${claim.kind}`);
    return claim.reservation;
  }

  const it_ = (name: string, fn: () => Promise<void>) => it(name, async () => (subject ? fn() : undefined));

  it_('reserves a free key once; the same request meanwhile is in flight, another is a mismatch', async () => {
    const reservation = await reserve();

    expect(reservation).toMatchObject({ userId: USER_A, key, fingerprint: FP });
    await expect(sut.claim(USER_A, key, FP)).resolves.toEqual({ kind: 'in-flight' });
    await expect(sut.claim(USER_A, key, OTHER_FP)).resolves.toEqual({ kind: 'mismatch' });
  });

  it_('replays the completed response to the same request only', async () => {
    const reservation = await reserve();

    await expect(sut.complete(reservation, RESPONSE)).resolves.toBe(true);
    await expect(sut.claim(USER_A, key, FP)).resolves.toEqual({ kind: 'replay', response: RESPONSE });
    await expect(sut.claim(USER_A, key, OTHER_FP)).resolves.toEqual({ kind: 'mismatch' });
  });

  it_('frees a released key for the next request, whatever its body', async () => {
    await sut.release(await reserve());

    await expect(reserve(USER_A, OTHER_FP)).resolves.toMatchObject({ fingerprint: OTHER_FP });
  });

  it_('keeps keys per user', async () => {
    await sut.complete(await reserve(USER_A), RESPONSE);

    await expect(reserve(USER_B, OTHER_FP)).resolves.toMatchObject({ userId: USER_B });
  });

  it_('lets a stale in-flight marker expire, and the late request cannot touch its successor', async () => {
    const stale = await reserve();
    await subject!.pass(IN_FLIGHT_TTL_MS);
    const successor = await reserve(USER_A, OTHER_FP);

    await expect(sut.complete(stale, RESPONSE)).resolves.toBe(false);
    await sut.release(stale);
    await expect(sut.claim(USER_A, key, OTHER_FP)).resolves.toEqual({ kind: 'in-flight' });
    await expect(sut.complete(successor, RESPONSE)).resolves.toBe(true);
  });

  it_('forgets a stored response after the key TTL', async () => {
    await sut.complete(await reserve(), RESPONSE);
    await subject!.pass(KEY_TTL_MS);

    await expect(reserve(USER_A, OTHER_FP)).resolves.toMatchObject({ fingerprint: OTHER_FP });
  });

  it_('gives a key to exactly one of many concurrent requests', async () => {
    const claims = await Promise.all(Array.from({ length: 12 }, () => sut.claim(USER_A, key, FP)));

    expect(claims.filter((claim) => claim.kind === 'reserved')).toHaveLength(1);
    expect(claims.filter((claim) => claim.kind === 'in-flight')).toHaveLength(11);
  });
});

describe('DatabaseIdempotencyStore.sweep', () => {
  it('deletes rows past their expiry and keeps the others', async () => {
    const subject = await sqliteSubject();
    const sut = subject.store as DatabaseIdempotencyStore;
    try {
      const done = await sut.claim(USER_A, 'done', FP);
      const running = await sut.claim(USER_A, 'running', FP);
      if (done.kind !== 'reserved' || running.kind !== 'reserved') throw new Error('keys not free');
      await sut.complete(done.reservation, RESPONSE);

      await subject.pass(IN_FLIGHT_TTL_MS);
      await expect(sut.sweep()).resolves.toBe(1); // the in-flight marker
      await expect(sut.claim(USER_A, 'done', FP)).resolves.toMatchObject({ kind: 'replay' });

      await subject.pass(KEY_TTL_MS);
      await expect(sut.sweep()).resolves.toBe(1);
    } finally {
      await subject.close();
    }
  });
});
