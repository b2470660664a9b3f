import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shutdown } from '../src/common/lifecycle/graceful-shutdown';
import { GENEROUS_LIMITS, openAiEnv, quietEventLoop } from './analyses-test-kit';
import { OpenAiFake } from './fakes/openai-fake';
import { uniqueJpeg } from './fixtures/images';
import { bearer, registerUser } from './support/auth';
import { eventually, freePort, waitFor } from './support/net';
import { baseUrl, createTestApp, parsedLogs, servicesMode, TestApp } from './support/test-app';

const ROOT = join(__dirname, '..');

describe('graceful shutdown (docs/operations.md)', () => {
  it('lets an in-flight request finish, refuses new connections, and closes', async () => {
    const t = await createTestApp({}, { listen: true, probes: true });
    const url = baseUrl(t);
    const arrived = once(t.app.getHttpServer(), 'request');
    const inFlight = fetch(`${url}/v1/probe/slow?ms=800`);
    await arrived;

    const stopped = shutdown(t.app, 5000);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ waited: 800 });
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
    await stopped;
    await t.close().catch(() => undefined);
  });

  it('exits 0 on SIGTERM, and refuses a production start with a short JWT_SECRET naming every bad variable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'argus-main-'));
    const port = await freePort();
    const run = (env: Record<string, string>): ChildProcess =>
      spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const exitOf = (child: ChildProcess) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });

    try {
      const refused = run({
        NODE_ENV: 'production',
        JWT_SECRET: 'too-short',
        ALLOWED_ORIGINS: '*',
        PORT: String(port),
      });
      const refusal = await exitOf(refused);
      expect(refusal.code).toBe(1);
      expect(refusal.stderr).toContain('JWT_SECRET');
      expect(refusal.stderr).toContain('ALLOWED_ORIGINS');
      expect(refusal.stderr).toContain('DATABASE_URL');
      expect(refusal.stderr).not.toContain('too-short');

      const server = run({ PORT: String(port) });
      const exited = exitOf(server);
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200,
        45_000,
        'the server to be ready',
      );
      server.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe(`graceful shutdown with jobs (docs/operations.md) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new OpenAiFake();
  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  /** An app listening on a port, with the OpenAI fake, whose uploads wait for their jobs. */
  async function startApp(shareWith?: TestApp): Promise<TestApp> {
    const t = await createTestApp({ ...GENEROUS_LIMITS, ...openAiEnv(fake, 20_000) }, { listen: true, probes: true, shareWith });
    await quietEventLoop();
    return t;
  }

  async function upload(t: TestApp, token: string): Promise<Response> {
    const form = new FormData();
    form.append('file', new Blob([await uniqueJpeg()], { type: 'image/jpeg' }), 'slow.jpg');
    return fetch(`${baseUrl(t)}/v1/analyses`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
  }

  it('answers a waiting upload 202 with its Location at once, and lets its job finish within the grace', async () => {
    const t = await startApp();
    const replica = await createTestApp({}, { shareWith: t });
    try {
      const user = await registerUser(t);
      fake.delay(1500, 1);
      const waiting = upload(t, user.accessToken);
      await eventually(() => (fake.callCount === 1 ? true : undefined), 'the job to reach the provider', 30_000);

      const started = Date.now();
      const stopped = shutdown(t.app, 10_000);
      const answer = await waiting;
      const answeredAfter = Date.now() - started;
      await stopped;

      expect(answer.status).toBe(202);
      expect(answeredAfter).toBeLessThan(1000);
      const body = (await answer.json()) as { id: string; status: string };
      expect(answer.headers.get('location')).toBe(`/v1/analyses/${body.id}`);
      expect(body.status).toBe('running');
      const found = await replica.http().get(`/v1/analyses/${body.id}`).set(bearer(user)).expect(200);
      expect(found.body).toMatchObject({ status: 'succeeded', cached: false });
      expect(fake.callCount).toBe(1);
    } finally {
      await replica.close();
      await t.close().catch(() => undefined);
    }
  }, 120_000);

  it('hands a job still running at the end of the grace back to the queue; another process runs it', async () => {
    const t = await startApp();
    let next: TestApp | undefined;
    try {
      const user = await registerUser(t);
      fake.delay(4000, 1);
      const waiting = upload(t, user.accessToken);
      await eventually(() => (fake.callCount === 1 ? true : undefined), 'the job to reach the provider', 30_000);

      await shutdown(t.app, 500);
      const answer = await waiting;
      expect(answer.status).toBe(202);
      const { id } = (await answer.json()) as { id: string };
      expect(parsedLogs(t)).toContainEqual(expect.objectContaining({ msg: 'job handed back to the queue', jobId: id, released: true }));

      next = await startApp(t);
      const done = await next.http().get(`/v1/analyses/${id}`).set(bearer(user)).set('Prefer', 'wait=30').expect(200);
      expect(done.body).toMatchObject({ status: 'succeeded', cached: false });
      // The first call was cut short by the hand-back; the second run asked again and paid once.
      expect(fake.callCount).toBe(2);
      const me = await next.http().get('/v1/auth/me').set(bearer(user)).expect(200);
      expect(me.body.usage.analysesToday).toBe(1);
    } finally {
      await next?.close();
      await t.close().catch(() => undefined);
    }
  }, 120_000);

  it('answers a request still open when the grace ends (503, Connection: close) and logs it', async () => {
    const t = await startApp();
    try {
      const arrived = once(t.app.getHttpServer(), 'request');
      const slow = fetch(`${baseUrl(t)}/v1/probe/slow?ms=10000`, { headers: { 'X-Request-ID': 'cut-at-shutdown-1' } });
      await arrived;

      await shutdown(t.app, 500);
      const answer = await slow;

      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(await answer.json()).toMatchObject({ status: 503, requestId: 'cut-at-shutdown-1' });
      expect(parsedLogs(t)).toContainEqual(expect.objectContaining({ requestId: 'cut-at-shutdown-1', status: 503 }));
    } finally {
      await t.close().catch(() => undefined);
    }
  }, 120_000);
});

