/**
 * `npm run bench`: what the production stack costs against the framework alone and against a peer.
 *
 * Side by side, in one run, with the servers pinned to core 1 and the load generator (wrk, or
 * autocannon where wrk is missing) to core 0 (where `taskset` exists), measured in turn over several
 * rounds: requests/s and p99 of
 *   (a)  a bare Node http server returning the same JSON,
 *   (b)  a plain NestJS + platform-express app with one controller returning it,
 *   (c)  Argus's authenticated, rate-limited, logged, metered, cached GET /v1/ip/:address, with Redis,
 *   (c0) the same on the embedded default (no REDIS_URL: in-process counters and cache),
 *   (d)  Argus's /health/live,
 *   (f)  a FastAPI peer doing the same work (bench/peers/fastapi_peer.py: HS256 JWT with the same
 *        claims, an in-memory per-IP limit, X-Request-ID, one JSON log line per request to a file,
 *        a Redis GET of the cached record), when /usr/bin/python3 (BENCH_PYTHON) has fastapi,
 * then the ratios c/b, c/f, c0/c (targets on Node 20: ≥ 0.6, ≥ 1.5, ≥ 1.0) and c/a, d/b, each the
 * median of the per-round ratios, and p99 of c and c0 (target < 50 ms at 50 connections) beside
 * plain Nest's, and b/f: the framework alone against the peer, which bounds what c/f can reach.
 *
 * Argus runs from dist/ (build first) on SQLite, or on PostgreSQL with BENCH_DATABASE_URL (needed
 * when BENCH_NODE is a Node whose ABI the installed better-sqlite3 was not built for), and with
 * Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379) for (c) and (f). BENCH_NODE runs the
 * Node servers on another Node binary (docs/performance.md says how to get Node 24 without
 * touching the project). Environment: BENCH_ROUNDS (3), BENCH_DURATION_S (5), BENCH_CONNECTIONS
 * (50). Not a test: numbers only.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { registerBenchUser } from './support/accounts';
import { hasWrk, measure, Sample } from './support/load';
import {
  ARGUS_BENCH_ENV,
  benchNode,
  hasTaskset,
  launchProcess,
  launchServer,
  redisAnswers,
  reexecPinned,
  ROOT,
  stop,
  waitForOk,
} from './support/processes';
import { median } from './support/stats';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const ADDRESS = '8.8.8.8';

type TargetId = 'a' | 'b' | 'c' | 'c0' | 'd' | 'f';

interface Target {
  id: TargetId;
  name: string;
  url: string;
  headers?: Record<string, string>;
}

interface Argus {
  base: string;
  auth: Record<string, string>;
  token: string;
}

async function startArgus(
  servers: ChildProcess[],
  port: number,
  dataDir: string,
  extra: Record<string, string>,
): Promise<Argus> {
  const database = process.env.BENCH_DATABASE_URL;
  const server = launchServer(['dist/main.js'], {
    ...ARGUS_BENCH_ENV,
    PORT: String(port),
    DATA_DIR: dataDir,
    ...(database ? { DATABASE_URL: database } : {}),
    ...extra,
  });
  servers.push(server);
  const base = `http://127.0.0.1:${port}`;
  await waitForOk(`${base}/health/ready`, server);
  const token = await registerBenchUser(base);
  const auth = { Authorization: `Bearer ${token}` };
  // The first lookup fills the cache; every measured one is a cache hit.
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${base}/v1/ip/${ADDRESS}`, { headers: auth });
    if (!res.ok) throw new Error(`lookup on ${base} failed: HTTP ${res.status}`);
  }
  return { base, auth, token };
}

/** Whether the installed better-sqlite3 loads in BENCH_NODE (its binary is built for one ABI). */
function sqliteLoads(): boolean {
  const open = "new (require('better-sqlite3'))(':memory:').close()"; // the binding loads on first open
  return spawnSync(benchNode(), ['-e', open], { cwd: ROOT, stdio: 'ignore' }).status === 0;
}

function pythonHasFastApi(): boolean {
  return spawnSync(PYTHON, ['-c', 'import fastapi, uvicorn, jwt, redis'], { stdio: 'ignore' }).status === 0;
}

function claimsOf(token: string): { iss: string; aud: string } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { iss: string; aud: string };
}

/**
 * Every server runs at once (idle while another is measured) and the targets are measured in
 * turn, round after round, the order alternating: on a shared or throttled machine the speed drifts
 * by tens of percent within a minute, and a ratio is only meaningful between numbers taken under
 * the same conditions. Each ratio is the median of the per-round ratios.
 */
async function main(): Promise<void> {
  if (process.env.BENCH_NODE && !process.env.BENCH_DATABASE_URL && !sqliteLoads()) {
    throw new Error(
      `better-sqlite3 does not load in ${benchNode()}: set BENCH_DATABASE_URL (an empty PostgreSQL database) to run Argus there`,
    );
  }
  const tmp = mkdtempSync(join(tmpdir(), 'argus-bench-'));
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const withRedis = await redisAnswers(redisUrl);
  const servers: ChildProcess[] = [];
  let redis: Redis | undefined;
  const peerKey = `bench-peer-${Date.now()}:ip:${ADDRESS}`;
  try {
    const embedded = await startArgus(servers, 4104, join(tmp, 'embedded'), {});
    const shared = withRedis
      ? await startArgus(servers, 4103, join(tmp, 'redis'), {
          REDIS_URL: redisUrl,
          REDIS_KEY_PREFIX: `bench-${Date.now()}:`,
        })
      : undefined;
    const reference = shared ?? embedded;
    // Argus's answer for the address, a cache hit, is the JSON (a), (b) and (f) return.
    const body = await (await fetch(`${reference.base}/v1/ip/${ADDRESS}`, { headers: reference.auth })).text();

    const tsNode = ['-r', 'ts-node/register/transpile-only'];
    const bare = launchServer([...tsNode, 'bench/servers/bare-http.server.ts'], { BENCH_BODY: body, PORT: '4101' });
    const plain = launchServer([...tsNode, 'bench/servers/plain-nest.server.ts'], { BENCH_BODY: body, PORT: '4102' });
    servers.push(bare, plain);
    await waitForOk(`http://127.0.0.1:4101/v1/ip/${ADDRESS}`, bare);
    await waitForOk(`http://127.0.0.1:4102/v1/ip/${ADDRESS}`, plain);

    const targets: Target[] = [
      { id: 'a', name: '(a) bare node http', url: `http://127.0.0.1:4101/v1/ip/${ADDRESS}` },
      { id: 'b', name: '(b) plain NestJS', url: `http://127.0.0.1:4102/v1/ip/${ADDRESS}` },
    ];
    if (shared) {
      targets.push({
        id: 'c',
        name: '(c) Argus cached lookup, Redis',
        url: `${shared.base}/v1/ip/${ADDRESS}`,
        headers: shared.auth,
      });
    }
    targets.push(
      {
        id: 'c0',
        name: '(c0) Argus cached lookup, embedded',
        url: `${embedded.base}/v1/ip/${ADDRESS}`,
        headers: embedded.auth,
      },
      { id: 'd', name: '(d) Argus /health/live', url: `${reference.base}/health/live` },
    );

    if (shared && pythonHasFastApi()) {
      redis = new Redis(redisUrl);
      await redis.set(peerKey, body, 'EX', 3600);
      const { iss, aud } = claimsOf(shared.token);
      const peer = launchProcess(PYTHON, ['bench/peers/fastapi_peer.py'], {
        PORT: '4105',
        REDIS_URL: redisUrl,
        REDIS_KEY: peerKey,
        JWT_SECRET: ARGUS_BENCH_ENV.JWT_SECRET,
        JWT_ISSUER: iss,
        JWT_AUDIENCE: aud,
        LOG_FILE: join(tmp, 'fastapi-peer.log'),
        RATE_LIMIT_PER_MINUTE: ARGUS_BENCH_ENV.RATE_LIMIT_PER_MINUTE,
      });
      servers.push(peer);
      const url = `http://127.0.0.1:4105/v1/ip/${ADDRESS}`;
      await waitForPeer(url, shared.auth, peer);
      targets.push({ id: 'f', name: '(f) FastAPI peer', url, headers: shared.auth });
    } else {
      console.warn(`(f) skipped: needs Redis and ${PYTHON} with fastapi, uvicorn, jwt, redis`);
    }

    // Warm-up: JIT, connection pools, caches.
    for (const target of targets) await measure(target, 2, CONNECTIONS);
    const samples = new Map<TargetId, Sample[]>(targets.map((target) => [target.id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so no target always follows the same one.
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const target of order) samples.get(target.id)!.push(await measure(target, DURATION_S, CONNECTIONS));
      console.log(
        `round ${round + 1}/${ROUNDS}: ${targets
          .map((target) => {
            const sample = samples.get(target.id)![round];
            return `${target.id} ${Math.round(sample.rps)} req/s p99 ${sample.p99.toFixed(1)} ms`;
          })
          .join(' | ')}`,
      );
    }
    report(targets, samples, Buffer.byteLength(body));
  } finally {
    await redis?.del(peerKey);
    redis?.disconnect();
    await Promise.all(servers.map(stop));
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Resolves once the peer answers the authenticated lookup with 2xx; fails early if it exits. */
async function waitForPeer(url: string, headers: Record<string, string>, peer: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (peer.exitCode !== null) throw new Error(`FastAPI peer exited with code ${peer.exitCode}`);
    const status = await fetch(url, { headers }).then(
      (res) => res.status,
      () => 0,
    );
    if (status >= 200 && status < 300) return;
    if (status !== 0) throw new Error(`FastAPI peer answered HTTP ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('FastAPI peer did not come up within 30 s');
}

function report(targets: Target[], samples: Map<TargetId, Sample[]>, bodyBytes: number): void {
  const version = spawnSync(benchNode(), ['--version']).stdout.toString().trim();
  console.log(
    `\nNode ${version}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per target, ` +
      `load: ${hasWrk() ? 'wrk' : 'autocannon'}, taskset: ${hasTaskset() ? 'yes' : 'no'}`,
  );
  console.table(
    targets.map((target) => {
      const runs = samples.get(target.id)!;
      const rps = runs.map((s) => s.rps);
      return {
        server: target.name,
        'req/s (median)': Math.round(median(rps)),
        'min–max': `${Math.round(Math.min(...rps))}–${Math.round(Math.max(...rps))}`,
        'p99 ms (median)': Number(median(runs.map((s) => s.p99)).toFixed(1)),
        errors: sum(runs.map((s) => s.errors)),
        non2xx: sum(runs.map((s) => s.non2xx)),
      };
    }),
  );
  const ratio = (x: TargetId, y: TargetId): string => {
    const xs = samples.get(x);
    const ys = samples.get(y);
    if (!xs || !ys) return 'n/a';
    return median(xs.map((s, round) => s.rps / ys[round].rps)).toFixed(2);
  };
  const p99 = (id: TargetId): string => {
    const runs = samples.get(id);
    return runs ? `${median(runs.map((s) => s.p99)).toFixed(1)} ms` : 'n/a';
  };
  // The targets: on Node 20 c/b ≥ 0.6 and c/f ≥ 1.5; on Node 24, the image's runtime, c/b ≥ 0.5 and c/f ≥ 2.5.
  const [cb, cf] = Number(version.slice(1).split('.')[0]) >= 24 ? [0.5, 2.5] : [0.6, 1.5];
  console.log(
    `c/b = ${ratio('c', 'b')} (≥ ${cb})   c/f = ${ratio('c', 'f')} (≥ ${cf})   c0/c = ${ratio('c0', 'c')} (≥ 1.0)   ` +
      `c0/b = ${ratio('c0', 'b')}   c/a = ${ratio('c', 'a')}   d/b = ${ratio('d', 'b')}   (medians of per-round ratios)`,
  );
  console.log(`p99: c ${p99('c')}, c0 ${p99('c0')} (< 50 ms); plain Nest (b) ${p99('b')}`);
  // c/f = c/b × b/f: with c/b at its target, c/f reaches its own only where the framework alone
  // beats the peer by b/f ≥ c/f ÷ c/b — how far the machine allows that moves with the day.
  console.log(`b/f = ${ratio('b', 'f')}: c/f ≥ ${cf} with c/b = ${cb} needs b/f ≥ ${(cf / cb).toFixed(1)}`);
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
