import { Client } from 'pg';
import { JOB_RUNNER, JobRunner } from '../src/jobs/job-queue';
import { GENEROUS_LIMITS, openAiEnv, quietEventLoop, suiteFor } from './analyses-test-kit';
import { OpenAiFake } from './fakes/openai-fake';
import { uniqueJpeg } from './fixtures/images';
import { bearer, registerUser } from './support/auth';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

const describePostgres = servicesMode ? describe : describe.skip;

/**
 * The database runner on PostgreSQL without Redis (docs/api.md, Image analysis: "a runner on the database
 * otherwise"): the table is the queue, and concurrent workers claim rows with
 * `FOR UPDATE SKIP LOCKED`, so two processes polling one table run each job once.
 */
describePostgres('Database job runner on PostgreSQL without Redis', () => {
  const fake = new OpenAiFake();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await fake.start();
    const env = { ...GENEROUS_LIMITS, ...openAiEnv(fake, 20_000), REDIS_URL: '' };
    a = await createTestApp(env);
    b = await createTestApp(env, { shareWith: a });
    await quietEventLoop();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await fake.close();
  });

  it('uses the database runner when REDIS_URL is unset', () => {
    expect(a.app.get<JobRunner>(JOB_RUNNER, { strict: false }).kind).toBe('database');
  });

  it('runs each job once across two processes polling the same table', async () => {
    const user = await registerUser(a);
    const s = suiteFor(a, user);
    fake.delay(100);

    const accepted = await Promise.all(
      Array.from(
        { length: 16 },
        async () => (await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }).expect(202)).body.id as string,
      ),
    );
    for (const id of accepted) {
      const done = await b.http().get(`/v1/analyses/${id}`).set(bearer(user)).set('Prefer', 'wait=60').expect(200);
      expect(done.body.status).toBe('succeeded');
    }

    const client = new Client({ connectionString: a.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ attempts: number }>('SELECT attempts FROM analyses');
      expect(rows.map((row) => row.attempts)).toEqual(accepted.map(() => 1));
    } finally {
      await client.end();
    }
    expect(fake.callCount).toBe(accepted.length);
  }, 120_000);
});
