/**
 * `npm run bench`: what the production stack costs against the framework alone.
 *
 * Side by side, in one run, with the servers pinned to core 1 and the load generator to core 0
 * (where `taskset` exists), measured in turn over several rounds: requests/s and p99 of
 *   (a) a bare Node http server returning the same JSON,
 *   (b) a plain NestJS + platform-express app with one controller returning it,
 *   (c) Argus's authenticated, throttled, logged, metered, cached GET /v1/ip/:address,
 *   (d) Argus's /health/live,
 * then the ratios c/a, c/b and d/b. Target: c/b ≥ 0.6. Argus starts first: its answer (a cache hit
 * for 8.8.8.8) is the JSON (a) and (b) return, so all three serialise and send the same body.
 *
 * Argus runs from dist/ (build first) on SQLite, with Redis when BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379) answers — the same shape as production. Not a test: numbers only.
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
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
import { registerBenchUser } from './support/accounts';
import { median } from './support/stats';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
}

interface Sample {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function run(target: Target, duration: number): Promise<Sample> {
  const result = await autocannon({ url: target.url, headers: target.headers, connections: CONNECTIONS, duration });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * All three servers run at once (idle while another is measured) and the four targets are measured
 * in turn, round after round: on a shared or throttled machine the speed drifts by tens of percent
 * within a minute, and a ratio is only meaningful between numbers taken under the same conditions.
 * Each ratio is the median of the per-round ratios.
 */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-'));
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const withRedis = await redisAnswers(redisUrl);
  const servers: ChildProcess[] = [];
  try {
    const argus = launchServer(['dist/main.js'], {
      ...ARGUS_BENCH_ENV,
      PORT: '4103',
      DATA_DIR: dataDir,
      ...(withRedis ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `bench-${Date.now()}:` } : {}),
    });
    servers.push(argus);
    const base = 'http://127.0.0.1:4103';
    await waitForOk(`${base}/health/ready`, argus);
    const auth = { Authorization: `Bearer ${await registerBenchUser(base)}` };
    const first = await fetch(`${base}/v1/ip/8.8.8.8`, { headers: auth });
    if (!first.ok) throw new Error(`lookup failed: ${first.status}`);
    // Argus's answer for 8.8.8.8, now a cache hit, is the JSON (a) and (b) return.
    const body = await (await fetch(`${base}/v1/ip/8.8.8.8`, { headers: auth })).text();

    const env = { BENCH_BODY: body };
    const tsNode = ['-r', 'ts-node/register/transpile-only'];
    const bare = launchServer([...tsNode, 'bench/servers/bare-http.server.ts'], { ...env, PORT: '4101' });
    const plain = launchServer([...tsNode, 'bench/servers/plain-nest.server.ts'], { ...env, PORT: '4102' });
    servers.push(bare, plain);
    await waitForOk('http://127.0.0.1:4101/', bare);
    await waitForOk('http://127.0.0.1:4102/v1/ip/8.8.8.8', plain);

    const targets: Target[] = [
      { name: '(a) bare node http', url: 'http://127.0.0.1:4101/v1/ip/8.8.8.8' },
      { name: '(b) plain NestJS', url: 'http://127.0.0.1:4102/v1/ip/8.8.8.8' },
      {
        name: `(c) Argus GET /v1/ip/:address${withRedis ? ' (Redis)' : ''}`,
        url: `${base}/v1/ip/8.8.8.8`,
        headers: auth,
      },
      { name: '(d) Argus /health/live', url: `${base}/health/live` },
    ];
    // Warm-up: JIT, connection pools, caches.
    for (const target of targets) await run(target, 2);
    const samples: Sample[][] = targets.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so no target always follows the same one.
      const order = round % 2 === 0 ? [0, 1, 2, 3] : [3, 2, 1, 0];
      for (const index of order) samples[index].push(await run(targets[index], DURATION_S));
      console.log(`round ${round + 1}/${ROUNDS}: ${samples.map((s) => Math.round(s[round].rps)).join(' / ')} req/s`);
    }
    report(targets, samples, Buffer.byteLength(body));
  } finally {
    await Promise.all(servers.map(stop));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(targets: Target[], samples: Sample[][], bodyBytes: number): void {
  console.log(
    `\n${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per target, taskset: ${hasTaskset() ? 'yes' : 'no'}`,
  );
  console.table(
    targets.map((target, i) => ({
      server: target.name,
      'req/s (median)': Math.round(median(samples[i].map((s) => s.rps))),
      'min–max': `${Math.round(Math.min(...samples[i].map((s) => s.rps)))}–${Math.round(Math.max(...samples[i].map((s) => s.rps)))}`,
      'p99 ms (median)': median(samples[i].map((s) => s.p99)),
      errors: sum(samples[i].map((s) => s.errors)),
      non2xx: sum(samples[i].map((s) => s.non2xx)),
    })),
  );
  const [a, b, c, d] = samples;
  const ratio = (x: Sample[], y: Sample[]) => median(x.map((s, round) => s.rps / y[round].rps)).toFixed(2);
  console.log(
    `c/a = ${ratio(c, a)}   c/b = ${ratio(c, b)} (target ≥ 0.6)   d/b = ${ratio(d, b)}   (medians of per-round ratios)`,
  );
  console.log(`every server answered the same ${bodyBytes}-byte JSON`);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

if (!reexecPinned(__filename)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
