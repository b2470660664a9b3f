import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Client } from 'pg';
import { GENEROUS_LIMITS, openAiEnv, quietEventLoop } from './analyses-test-kit';
import { OpenAiFake } from './fakes/openai-fake';
import { uniqueJpeg } from './fixtures/images';
import { bearer, RegisteredUser, registerUser } from './support/auth';
import { eventually, freePort, hasRedisServer, PrivateRedis, waitFor } from './support/net';
import { baseUrl, createTestApp, servicesMode, TestApp } from './support/test-app';

/**
 * Jobs survive what kills processes and Redis (docs/api.md, Image analysis: "An accepted job is never lost and never
 * done twice"), with real processes: `src/main.ts` run as child processes beside an in-process api.
 * Services mode only (PostgreSQL + Redis): the processes share the database and the queue.
 */

const ROOT = join(__dirname, '..');
/** Short leases so a killed worker's job is taken up again within seconds. */
const LEASE_S = '3';
const describeServices = servicesMode ? describe : describe.skip;
if (!servicesMode) console.warn('Job fault tests skipped: they need TEST_DATABASE_URL and TEST_REDIS_URL');

interface ArgusProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `src/main.ts` in a child process with the test app's database and Redis, ready to serve. */
async function startProcess(env: Record<string, string>): Promise<ArgusProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await waitFor(async () => (await fetch(`${url}/health/ready`)).ok, 90_000, `argus on port ${port} to be ready`);
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
  return { child, url, exited, stop };
}

async function uploadAsync(base: string, user: RegisteredUser): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([await uniqueJpeg()], { type: 'image/jpeg' }), 'photo.jpg');
  const res = await fetch(`${base}/v1/analyses`, {
    method: 'POST',
    headers: { ...bearer(user), Prefer: 'respond-async' },
    body: form,
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

async function analysisRows(
  t: TestApp,
): Promise<{ id: string; status: string; attempts: number; worker_id: string }[]> {
  const client = new Client({ connectionString: t.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT id, status, attempts, worker_id FROM analyses ORDER BY created_at');
    return rows;
  } finally {
    await client.end();
  }
}

describeServices('Job faults, real processes (PostgreSQL + Redis)', () => {
  const fake = new OpenAiFake();
  let api: TestApp;
  let user: RegisteredUser;
  const children: ArgusProcess[] = [];

  /** Environment of a child process: the api's database, Redis prefix and secrets. */
  const childEnv = (extra: Record<string, string>) => ({
    ...api.env,
    ...GENEROUS_LIMITS,
    ...openAiEnv(fake, 20_000),
    JOB_LEASE_S: LEASE_S,
    ...extra,
  });

  beforeAll(async () => {
    await fake.start();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.stop('SIGKILL')));
    await api?.close();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('SIGKILL of the worker during a job: after a restart the job succeeds, one row, one quota unit', async () => {
    api = await createTestApp(
      { ...GENEROUS_LIMITS, ...openAiEnv(fake, 20_000), ARGUS_ROLE: 'api', JOB_LEASE_S: LEASE_S },
      { listen: true },
    );
    await quietEventLoop();
    user = await registerUser(api);
    // The first call never returns: the worker is killed while it waits for it.
    fake.hang(1);
    const worker = await startProcess(childEnv({ ARGUS_ROLE: 'worker' }));
    children.push(worker);

    const id = await uploadAsync(baseUrl(api), user);
    await eventually(() => (fake.callCount === 1 ? true : undefined), 'the worker to call the provider', 60_000);
    await worker.stop('SIGKILL');

    children.push(await startProcess(childEnv({ ARGUS_ROLE: 'worker' })));
    const done = await api.http().get(`/v1/analyses/${id}`).set(bearer(user)).set('Prefer', 'wait=60').expect(200);

    expect(done.body).toMatchObject({ status: 'succeeded', cached: false, error: null });
    const rows = await analysisRows(api);
    expect(rows).toEqual([expect.objectContaining({ id, status: 'succeeded', attempts: 2 })]);
    // The killed worker's call had not returned; the one that answered is the only one that did.
    expect(fake.callCount).toBe(2);
    const me = await api.http().get('/v1/auth/me').set(bearer(user)).expect(200);
    expect(me.body.usage.analysesToday).toBe(1);
  }, 300_000);

  it('two worker processes: every job runs once', async () => {
    api = await createTestApp({ ...GENEROUS_LIMITS, ...openAiEnv(fake, 20_000), ARGUS_ROLE: 'api' }, { listen: true });
    await quietEventLoop();
    user = await registerUser(api);
    children.push(...(await Promise.all([1, 2].map(() => startProcess(childEnv({ ARGUS_ROLE: 'worker' }))))));
    // A worker serves health and metrics, not the API.
    expect((await fetch(`${children[0].url}/v1/analyses`)).status).toBe(404);
    expect((await fetch(`${children[0].url}/metrics`, { headers: { Authorization: 'Bearer x' } })).status).not.toBe(
      404,
    );
    fake.delay(150);

    const base = baseUrl(api);
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(await uploadAsync(base, user));
    for (const id of ids) {
      const done = await api.http().get(`/v1/analyses/${id}`).set(bearer(user)).set('Prefer', 'wait=60').expect(200);
      expect(done.body.status).toBe('succeeded');
    }

    const rows = await analysisRows(api);
    expect(rows.map((row) => [row.status, row.attempts])).toEqual(ids.map(() => ['succeeded', 1]));
    expect(fake.callCount).toBe(ids.length);
    console.log(`jobs per worker: ${JSON.stringify(countBy(rows.map((row) => row.worker_id)))}`);
  }, 300_000);

  (hasRedisServer ? it : it.skip)(
    'Redis restarted empty with jobs queued: every job completes',
    async () => {
      const redis = await PrivateRedis.start();
      try {
        api = await createTestApp(
          { ...GENEROUS_LIMITS, ...openAiEnv(fake, 20_000), ARGUS_ROLE: 'api', REDIS_URL: redis.url },
          { listen: true },
        );
        await quietEventLoop();
        user = await registerUser(api);
        const base = baseUrl(api);
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) ids.push(await uploadAsync(base, user));

        // Redis goes away with every doorbell (no persistence) and comes back empty.
        await redis.kill();
        await redis.start();
        children.push(await startProcess(childEnv({ ARGUS_ROLE: 'worker', REDIS_URL: redis.url })));

        for (const id of ids) {
          const done = await api
            .http()
            .get(`/v1/analyses/${id}`)
            .set(bearer(user))
            .set('Prefer', 'wait=60')
            .expect(200);
          expect(done.body.status).toBe('succeeded');
        }
        expect(fake.callCount).toBe(ids.length);
      } finally {
        await Promise.all(children.splice(0).map((child) => child.stop('SIGKILL')));
        await redis.kill();
      }
    },
    300_000,
  );
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
