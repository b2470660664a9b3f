/**
 * `npm run bench`: what the production stack costs against the framework alone.
 *
 * Side by side, in one run, with the servers pinned to core 1 and the load generator to core 0
 * (where `taskset` exists): requests/s and p99 of
 *   (a) a bare Node http server returning the same JSON,
 *   (b) a plain NestJS + platform-express app with one controller returning it,
 *   (c) Argus's authenticated, throttled, logged, metered, cached GET /v1/ip/:address,
 *   (d) Argus's /health/live,
 * then the ratios c/a, c/b and d/b. Target: c/b ≥ 0.6. Argus is measured first: its answer (a cache
 * hit for 8.8.8.8) is the JSON (a) and (b) return, so all three serialise and send the same body.
 *
 * Argus runs from dist/ (build first) on SQLite, with Redis when BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379) answers — the same shape as production. Not a test: numbers only.
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ARGUS_BENCH_ENV,
  hasTaskset,
  launchServer,
  redisAnswers,
  reexecPinned,
  stop,
  waitForOk,
} from './support/processes';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function measure(name: string, url: string, headers: Record<string, string> = {}): Promise<Result> {
  // Warm-up: JIT, connection pools, caches.
  await autocannon({ url, headers, connections: CONNECTIONS, duration: 2 });
  const run = await autocannon({ url, headers, connections: CONNECTIONS, duration: DURATION_S });
  return {
    name,
    rps: run.requests.average,
    p50: run.latency.p50,
    p99: run.latency.p99,
    errors: run.errors + run.timeouts,
    non2xx: run.non2xx,
  };
}

async function argusToken(base: string): Promise<string> {
  const email = `bench-${Date.now()}@example.com`;
  const res = await fetch(`${base}/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'bench-password-123' }),
  });
  if (!res.ok) throw new Error(`register failed: ${res.status}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function main(): Promise<void> {
  const argus = await measureArgus();
  // The same JSON as Argus answered, from a bare server and from the framework alone.
  const env = { BENCH_BODY: argus.body };
  const tsNode = ['-r', 'ts-node/register/transpile-only'];

  const bare = launchServer([...tsNode, 'bench/servers/bare-http.server.ts'], { ...env, PORT: '4101' });
  await waitForOk('http://127.0.0.1:4101/');
  const a = await measure('(a) bare node http', 'http://127.0.0.1:4101/v1/ip/8.8.8.8');
  await stop(bare);

  const plain = launchServer([...tsNode, 'bench/servers/plain-nest.server.ts'], { ...env, PORT: '4102' });
  await waitForOk('http://127.0.0.1:4102/v1/ip/8.8.8.8');
  const b = await measure('(b) plain NestJS', 'http://127.0.0.1:4102/v1/ip/8.8.8.8');
  await stop(plain);

  const results = [a, b, ...argus.results];
  console.log(`\n${CONNECTIONS} connections, ${DURATION_S} s each, taskset: ${hasTaskset() ? 'yes' : 'no'}`);
  console.table(
    results.map((r) => ({
      server: r.name,
      'req/s': Math.round(r.rps),
      'p50 ms': r.p50,
      'p99 ms': r.p99,
      errors: r.errors,
      non2xx: r.non2xx,
    })),
  );
  const [ra, rb, rc, rd] = results.map((r) => r.rps);
  console.log(`c/a = ${(rc / ra).toFixed(2)}   c/b = ${(rc / rb).toFixed(2)} (target ≥ 0.6)   d/b = ${(rd / rb).toFixed(2)}`);
  console.log(`every server answered the same ${Buffer.byteLength(argus.body)}-byte JSON`);
}

/** (c) and (d), and Argus's answer for 8.8.8.8 (a cache hit) for the other servers to return. */
async function measureArgus(): Promise<{ results: Result[]; body: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-'));
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const withRedis = await redisAnswers(redisUrl);
  const argus = launchServer(['dist/main.js'], {
    ...ARGUS_BENCH_ENV,
    PORT: '4103',
    DATA_DIR: dataDir,
    ...(withRedis ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `bench-${Date.now()}:` } : {}),
  });
  try {
    const base = 'http://127.0.0.1:4103';
    await waitForOk(`${base}/health/ready`, argus);
    const token = await argusToken(base);
    const auth = { Authorization: `Bearer ${token}` };
    const first = await fetch(`${base}/v1/ip/8.8.8.8`, { headers: auth });
    if (!first.ok) throw new Error(`lookup failed: ${first.status}`);
    const hit = await fetch(`${base}/v1/ip/8.8.8.8`, { headers: auth });
    const body = await hit.text();
    const c = await measure(`(c) Argus GET /v1/ip/:address${withRedis ? ' (Redis)' : ''}`, `${base}/v1/ip/8.8.8.8`, auth);
    const d = await measure('(d) Argus /health/live', `${base}/health/live`);
    return { results: [c, d], body };
  } finally {
    await stop(argus);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (!reexecPinned(__filename)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
