import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { bearer } from './support/auth';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/**
 * The backup and restore of docs/operations.md ("Backups and restore"), rehearsed: data written
 * through the API is dumped with `pg_dump -Fc`, restored with `pg_restore` into a new database, and a
 * second app on the restored database (its own Redis prefix, so nothing comes from a cache) reads it
 * back through the API. PostgreSQL only: the embedded SQLite file is backed up by copying it.
 */

const describeServices = servicesMode ? describe : describe.skip;
if (!servicesMode) console.warn('backup-restore: PostgreSQL only (TEST_DATABASE_URL unset): skipped.');

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr || result.error?.message}`);
  return result.stdout;
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describeServices('backup and restore of PostgreSQL (pg_dump / pg_restore)', () => {
  const email = `backup-${randomBytes(6).toString('hex')}@example.com`;
  const password = randomBytes(12).toString('hex');
  const address = '8.8.4.77';
  const restoredName = `argus_restored_${randomBytes(6).toString('hex')}`;
  let dir: string;
  let source: TestApp;
  let restored: TestApp | undefined;
  let restoredUrl: string;
  let written: { userId: string; reportId: string; history: unknown[] };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'argus-backup-'));
    source = await createTestApp();

    const registered = await source.http().post('/v1/auth/register').send({ email, password }).expect(201);
    const user = { accessToken: registered.body.accessToken as string };
    const report = await source
      .http()
      .post(`/v1/ip/${address}/reports`)
      .set(bearer(user))
      .send({ categories: [18], comment: 'backup rehearsal' })
      .expect(201);
    await source.http().get(`/v1/ip/${address}`).set(bearer(user)).expect(200);
    const history = await source.http().get(`/v1/ip/${address}/history`).set(bearer(user)).expect(200);
    written = { userId: registered.body.user.id, reportId: report.body.id, history: history.body.items };
    expect(written.history).toHaveLength(1);

    // The commands of docs/operations.md, against the source app's database.
    const dump = join(dir, 'argus.dump');
    run('pg_dump', [
      '--format=custom',
      '--no-owner',
      '--no-acl',
      `--file=${dump}`,
      `--dbname=${source.env.DATABASE_URL}`,
    ]);
    expect(statSync(dump).size).toBeGreaterThan(0);
    expect(run('pg_restore', ['--list', dump])).toMatch(/TABLE DATA public migrations/);

    await admin(`CREATE DATABASE ${restoredName}`);
    const url = new URL(source.env.DATABASE_URL);
    url.pathname = `/${restoredName}`;
    restoredUrl = url.toString();
    run('pg_restore', [
      '--no-owner',
      '--no-acl',
      '--exit-on-error',
      '--single-transaction',
      `--dbname=${restoredUrl}`,
      dump,
    ]);

    // A new deployment on the restored database: migrations off, so it is ready only if the
    // restored schema is current; its own Redis prefix, so every answer comes from PostgreSQL.
    restored = await createTestApp({ DATABASE_URL: restoredUrl, DB_MIGRATIONS: 'off' });
  }, 60_000);

  afterAll(async () => {
    await restored?.close();
    await source?.close();
    await admin(`DROP DATABASE IF EXISTS ${restoredName} WITH (FORCE)`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the restored deployment is ready: no migration pending', async () => {
    // Polled: on a loaded machine one probe's database ping (1.5 s budget) may time out.
    const deadline = Date.now() + 20_000;
    let ready = await restored!.http().get('/health/ready');
    while (ready.status !== 200 && ready.body.details?.migrations?.status !== 'down' && Date.now() < deadline) {
      ready = await restored!.http().get('/health/ready');
    }
    expect({ status: ready.status, migrations: ready.body.details.migrations }).toEqual({
      status: 200,
      migrations: { status: 'up' },
    });
    expect(restored!.env.REDIS_KEY_PREFIX).not.toBe(source.env.REDIS_KEY_PREFIX);
  });

  it('the account logs in with its password and is the same user', async () => {
    const login = await restored!.http().post('/v1/auth/login').send({ email, password }).expect(200);
    expect(login.body.user.id).toBe(written.userId);
    const me = await restored!.http().get('/v1/auth/me').set(bearer(login.body)).expect(200);
    expect(me.body).toMatchObject({ id: written.userId, email });
  });

  it('the lookup history and the report read back as written', async () => {
    const login = await restored!.http().post('/v1/auth/login').send({ email, password }).expect(200);
    const history = await restored!.http().get(`/v1/ip/${address}/history`).set(bearer(login.body)).expect(200);
    expect(history.body.items).toEqual(written.history);

    const lookup = await restored!.http().get(`/v1/ip/${address}`).set(bearer(login.body)).expect(200);
    expect(lookup.body.cached).toBe(false);
    expect(lookup.body.sources.find((s: { provider: string }) => s.provider === 'local')).toMatchObject({
      totalReports: 1,
      categories: [18],
    });
  });

  it('a refresh token issued after the dump is unknown to the restored database (sessions since are lost)', async () => {
    const login = await source.http().post('/v1/auth/login').send({ email, password }).expect(200);
    await restored!.http().post('/v1/auth/refresh').send({ refreshToken: login.body.refreshToken }).expect(401);
  });
});
