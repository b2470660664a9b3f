/**
 * `npm run bench:ip` — IP reputation numbers (issue 5):
 *   1. the blocklist matcher with 100 000 CIDRs (70 % IPv4, 30 % IPv6): load time, memory, matches/s
 *      (bench/ip-blocklist.bench.ts);
 *   2. a cached `GET /v1/ip/:address` through the full HTTP stack (helmet, correlation id, JSON
 *      logs at info, metrics, per-IP throttler, JWT guard, per-user throttler, validation, cache):
 *      2 500 sequential requests on one keep-alive connection (latency without queueing: median,
 *      p95, p99), then autocannon with BENCH_IP_CONNECTIONS (default 10) for BENCH_IP_DURATION_S
 *      (default 5) seconds (throughput).
 * Argus runs as its own process from dist/ (`npm run build` first; NODE_ENV=production, embedded
 * SQLite, JSON logs at info to /dev/null), pinned to core 1 with the load generator on core 0 where `taskset` exists;
 * once with the in-process cache and, when BENCH_REDIS_URL (default redis://127.0.0.1:6379)
 * answers, once with Redis. The first lookup asks the AbuseIPDB fake; every measured one is a hit.
 */
import autocannon from 'autocannon';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbuseIpDbFake } from '../test/fakes/abuseipdb-fake';
import { runBlocklistBench } from './ip-blocklist.bench';
import {
  ARGUS_BENCH_ENV,
  hasTaskset,
  launchServer,
  redisAnswers,
  reexecPinned,
  ROOT,
  stop,
  waitForOk,
} from './support/processes';
import { registerBenchUser } from './support/accounts';

const PORT = Number(process.env.BENCH_IP_PORT ?? 4301);
const SEQUENTIAL_REQUESTS = Number(process.env.BENCH_IP_REQUESTS ?? 2500);
const WARM_UP_REQUESTS = 500;
const CONNECTIONS = Number(process.env.BENCH_IP_CONNECTIONS ?? 10);
const DURATION_S = Number(process.env.BENCH_IP_DURATION_S ?? 5);
const ADDRESS = '118.25.6.39';
const ABUSEIPDB_KEY = 'bench-abuseipdb-key';

interface HttpResult {
  mode: string;
  median: number;
  p95: number;
  p99: number;
  rps: number;
  p50Loaded: number;
  p99Loaded: number;
  non2xx: number;
}

/** One GET on a keep-alive agent; resolves with the latency in ms. */
function timedGet(agent: Agent, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port: PORT, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function measure(mode: string, extraEnv: Record<string, string>, fakeUrl: string): Promise<HttpResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-ip-'));
  if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');
  const argus = launchServer(['dist/main.js'], {
    ...ARGUS_BENCH_ENV,
    PORT: String(PORT),
    DATA_DIR: dataDir,
    ABUSEIPDB_API_KEY: ABUSEIPDB_KEY,
    ABUSEIPDB_BASE_URL: `${fakeUrl}/api/v2`,
    ...extraEnv,
  });
  try {
    const base = `http://127.0.0.1:${PORT}`;
    await waitForOk(`${base}/health/ready`, argus);
    const headers = { Authorization: `Bearer ${await registerBenchUser(base)}` };
    const path = `/v1/ip/${ADDRESS}`;
    const first = await fetch(`${base}${path}`, { headers });
    const body = (await first.json()) as { cached: boolean; verdict: string };
    if (!first.ok || body.cached) throw new Error(`first lookup: HTTP ${first.status}, cached ${body.cached}`);

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < WARM_UP_REQUESTS; i++) await timedGet(agent, path, headers);
    const latencies: number[] = [];
    for (let i = 0; i < SEQUENTIAL_REQUESTS; i++) latencies.push(await timedGet(agent, path, headers));
    agent.destroy();
    latencies.sort((a, b) => a - b);

    const loaded = await autocannon({ url: `${base}${path}`, headers, connections: CONNECTIONS, duration: DURATION_S });
    return {
      mode,
      median: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
      p99: percentile(latencies, 0.99),
      rps: loaded.requests.average,
      p50Loaded: loaded.latency.p50,
      p99Loaded: loaded.latency.p99,
      non2xx: loaded.non2xx + loaded.errors + loaded.timeouts,
    };
  } finally {
    await stop(argus);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log('== blocklist matcher ==');
  runBlocklistBench();

  console.log('\n== cached GET /v1/ip/:address through the full HTTP stack ==');
  const fake = new AbuseIpDbFake({ validKeys: [ABUSEIPDB_KEY] });
  await fake.start();
  fake.setScore(ADDRESS, { abuseConfidenceScore: 87, totalReports: 42, countryCode: 'CN' });
  const results: HttpResult[] = [];
  try {
    results.push(await measure('in-process cache', {}, fake.url));
    const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
    if (await redisAnswers(redisUrl)) {
      results.push(
        await measure('Redis cache', { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `bench-ip-${Date.now()}:` }, fake.url),
      );
    }
  } finally {
    await fake.close();
  }
  if (fake.callCount !== results.length) throw new Error(`expected one provider call per run, saw ${fake.callCount}`);

  const ms = (value: number): string => value.toFixed(2);
  console.log(
    `${SEQUENTIAL_REQUESTS} sequential requests (one keep-alive connection) after ${WARM_UP_REQUESTS} warm-up; ` +
      `then autocannon ${CONNECTIONS} connections × ${DURATION_S} s; taskset: ${hasTaskset() ? 'yes' : 'no'}; node ${process.version}`,
  );
  console.table(
    results.map((r) => ({
      cache: r.mode,
      'median ms': ms(r.median),
      'p95 ms': ms(r.p95),
      'p99 ms': ms(r.p99),
      'req/s (loaded)': Math.round(r.rps),
      'p50 ms (loaded)': r.p50Loaded,
      'p99 ms (loaded)': r.p99Loaded,
      'errors/non-2xx': r.non2xx,
    })),
  );
}

if (!reexecPinned(__filename)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
