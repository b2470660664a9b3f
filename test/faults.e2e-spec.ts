import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { OpenAiFake } from './fakes/openai-fake';
import { bearer, registerUser } from './support/auth';
import { freePort, hasRedisServer, PrivateRedis, TcpProxy, waitFor } from './support/net';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

const ROOT = join(__dirname, '..');
const LIMITS = { AUTH_RATE_LIMIT_PER_MINUTE: '1000', RATE_LIMIT_PER_MINUTE: '10000', IP_RATE_LIMIT_PER_MINUTE: '1000' };

const describeWithRedisServer = hasRedisServer ? describe : describe.skip;
if (!hasRedisServer) console.warn('Redis fault tests skipped: no redis-server binary on PATH');

describeWithRedisServer('Redis dies and comes back', () => {
  let redis: PrivateRedis;
  let t: TestApp;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    t = await createTestApp({ ...LIMITS, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'faults:' });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.kill();
  });

  it('keeps serving without a 500 while Redis is down, and resumes sharing when it returns', async () => {
    const user = await registerUser(t);
    await t.http().get('/v1/ip/1.1.1.1').set(bearer(user)).expect(200);
    await waitFor(async () => (await t.http().get('/health/ready')).body.details?.redis?.status === 'up', 15_000, 'redis up');

    await redis.kill();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await t.http().post('/v1/auth/login').send({ email: user.email, password: 'x'.repeat(16) })).status);
      statuses.push((await t.http().get(`/v1/ip/9.9.9.${i + 1}`).set(bearer(user))).status);
      statuses.push((await t.http().get('/v1/ip/1.1.1.1').set(bearer(user))).status);
    }
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.filter((_, i) => i % 3 !== 0)).toEqual(Array(10).fill(200));
    const login = await registerUser(t);
    expect(login.accessToken).toEqual(expect.any(String));

    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.details.database.status).toBe('up');
    expect(ready.body.details.redis.status).toBe('down');

    await redis.start();
    await waitFor(async () => (await t.http().get('/health/ready')).body.details?.redis?.status === 'up', 15_000, 'redis back');
    // Counters are written to Redis again: the shared rate-limit keys reappear.
    await t.http().get('/v1/ip/1.0.0.1').set(bearer(user)).expect(200);
    const Redis = (await import('ioredis')).default;
    const client = new Redis(redis.url);
    try {
      await waitFor(async () => (await client.keys('*faults:*')).length > 0, 10_000, 'shared keys written');
    } finally {
      client.disconnect();
    }
  });
});

describe('upstream AI failures', () => {
  const openai = new OpenAiFake();
  let t: TestApp;

  beforeAll(async () => {
    await openai.start();
    t = await createTestApp({
      ...LIMITS,
      AI_PROVIDER: 'openai',
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      OPENAI_TIMEOUT_MS: '1000',
      ANALYSIS_RATE_LIMIT_PER_MINUTE: '100',
    });
  });
  afterAll(async () => {
    await t?.close();
    await openai.close();
  });

  const upload = async (t: TestApp, token: string, seed: number) => {
    const image = await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: seed, g: 10, b: 10 } } })
      .png()
      .toBuffer();
    const started = performance.now();
    const res = await t
      .http()
      .post('/v1/analyses')
      .set({ Authorization: `Bearer ${token}` })
      .attach('file', image, { filename: 'a.png', contentType: 'image/png' });
    return { res, ms: performance.now() - started };
  };

  it('answers 429/500 storms and a hanging upstream with the contract problems, in bounded time', async () => {
    const user = await registerUser(t);

    openai.reset();
    openai.failWith(500);
    const errored = await upload(t, user.accessToken, 1);
    expect(errored.res.status).toBe(502);
    expect(errored.res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(errored.res.text).not.toMatch(/127\.0\.0\.1|stack|Internal Server Error/);

    openai.reset();
    openai.failWith(429, undefined, { retryAfterSeconds: 0 });
    const limited = await upload(t, user.accessToken, 2);
    expect([502, 503]).toContain(limited.res.status);

    openai.reset();
    openai.hang();
    const hung = await upload(t, user.accessToken, 3);
    expect([503, 504]).toContain(hung.res.status);
    // Each attempt is cut at OPENAI_TIMEOUT_MS (1 s); with retries the answer still comes in seconds.
    expect(hung.ms).toBeLessThan(10_000);

    // Each failed job keeps its row, failed with the problem its upload was answered with.
    const history = await t.http().get('/v1/analyses').set(bearer(user)).expect(200);
    expect(history.body.items.map((item: { status: string; error: { status: number } }) => [item.status, item.error.status])).toEqual(
      [hung, limited, errored].map(({ res }) => ['failed', res.status]),
    );
  });
});

describe('SIGTERM during a slow analysis', () => {
  it('answers the waiting upload 202 with its Location at once, finishes the job within the grace, and exits 0', async () => {
    const openai = new OpenAiFake();
    await openai.start();
    openai.delay(1500);
    const dataDir = mkdtempSync(join(tmpdir(), 'argus-sigterm-'));
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      BCRYPT_COST: '10',
      JWT_SECRET: 'sigterm-test-secret-that-is-long-enough-0123456789',
      AI_PROVIDER: 'openai',
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: `${openai.url}/v1`,
    };
    const server: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    const exited = once(server, 'exit') as Promise<[number | null]>;
    const base = `http://127.0.0.1:${port}`;
    let restarted: TestApp | undefined;
    try {
      await waitFor(async () => (await fetch(`${base}/health/ready`)).ok, 45_000, 'server ready');
      const registered = await fetch(`${base}/v1/auth/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: 'sigterm@example.com', password: 'sigterm-password-1' }),
      });
      const { accessToken } = (await registered.json()) as { accessToken: string };
      const form = new FormData();
      const image = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#123456' } })
        .png()
        .toBuffer();
      form.append('file', new Blob([image], { type: 'image/png' }), 'slow.png');
      const inFlight = fetch(`${base}/v1/analyses`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${accessToken}` },
        body: form,
      });
      await waitFor(async () => openai.callCount > 0, 10_000, 'the analysis to reach the AI provider');
      server.kill('SIGTERM');

      const response = await inFlight;
      expect(response.status).toBe(202);
      const created = (await response.json()) as { id: string; status: string };
      expect(response.headers.get('location')).toBe(`/v1/analyses/${created.id}`);
      expect(created.status).toBe('running');
      const [code] = await exited;
      expect(code).toBe(0);

      // The job finished within the grace: a new process on the same data finds it answered.
      restarted = await createTestApp({ DATA_DIR: dataDir, JWT_SECRET: env.JWT_SECRET, DATABASE_URL: '', REDIS_URL: '' });
      const found = await restarted
        .http()
        .get(`/v1/analyses/${created.id}`)
        .set({ Authorization: `Bearer ${accessToken}` });
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({ status: 'succeeded', cached: false });
      expect(openai.callCount).toBe(1);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      await restarted?.close();
      await openai.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

const describePostgres = servicesMode ? describe : describe.skip;

describePostgres('PostgreSQL briefly unreachable', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  let owner: TestApp;

  beforeAll(async () => {
    owner = await createTestApp(LIMITS);
    const database = new URL(owner.env.DATABASE_URL);
    proxy = await TcpProxy.start({ host: database.hostname, port: Number(database.port || 5432) });
    database.port = String(proxy.port);
    t = await createTestApp({ ...LIMITS, DATABASE_URL: database.toString() }, { shareWith: owner });
  });
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await owner?.close();
  });

  it('turns readiness 503 and answers a clear 503 problem, then recovers without a restart', async () => {
    const user = await registerUser(t);
    await proxy.cut();

    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.database.status).toBe('down');
    await t.http().get('/health/live').expect(200);

    const login = await t.http().post('/v1/auth/login').send({ email: user.email, password: 'whatever-password' });
    expect(login.status).toBe(503);
    expect(login.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(login.body).toMatchObject({ type: 'urn:argus:problem:database-unavailable', status: 503 });
    expect(login.text).not.toMatch(/ECONNREFUSED|postgres|5432|SELECT/i);

    await proxy.restore();
    await waitFor(async () => (await t.http().get('/health/ready')).status === 200, 15_000, 'readiness to recover');
    await t.http().get('/v1/auth/me').set(bearer(user)).expect(200);
  });
});
