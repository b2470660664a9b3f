/**
 * `npm run bench:cpu-ab -- <build A> <build B>`: CPU time per cached `GET /v1/ip/:address` of two
 * Argus builds (two `dist/` directories, for example the current one and a copy built from another
 * commit), measured side by side.
 *
 * Throughput on a shared 2-vCPU machine drifts by tens of percent within a minute, which hides any
 * change under ~10 %. Here both builds run at once, pinned to the same server core, each offered
 * the same fixed rate (BENCH_RATE req/s, below saturation) by autocannon on the other core, and each
 * round reads both processes' CPU time (user + system, /proc/<pid>/stat) before and after: the
 * machine's drift hits both alike, and the per-round ratio B/A resolves a few percent. Prints every
 * round and the median ratio. Linux only (reads /proc). Not a test: numbers only.
 *
 * Both builds use Redis when it answers at BENCH_REDIS_URL; `BENCH_REDIS=off` runs both on the
 * embedded default (in-process counters and cache, SQLite), and `BENCH_REDIS=a` only A, so that one
 * build given twice compares the two modes (c0/c of `npm run bench` as CPU per request, below
 * saturation). Rounds start BENCH_SETTLE_S (20) s after the servers are ready, once their start-up
 * work (models, datasets) is done.
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { registerBenchUser } from './support/accounts';
import { median } from './support/stats';
import {
  ARGUS_BENCH_ENV,
  cpuMicros,
  launchServer,
  redisAnswers,
  reexecPinned,
  ROOT,
  stop,
  waitForOk,
} from './support/processes';

const RATE = Number(process.env.BENCH_RATE ?? 300);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 20);

interface Build {
  label: string;
  base: string;
  server: ChildProcess;
  headers: Record<string, string>;
}

function load(build: Build, duration: number, overallRate?: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${build.base}/v1/ip/8.8.8.8`,
    headers: build.headers,
    connections: 10,
    duration,
    overallRate,
  });
}

/** CPU µs per request of each build over one round, both loaded at once. */
async function round(builds: Build[]): Promise<number[]> {
  const before = builds.map((build) => cpuMicros(build.server.pid!));
  const results = await Promise.all(builds.map((build) => load(build, DURATION_S, RATE)));
  return builds.map((build, i) => {
    const { requests, non2xx, errors } = results[i];
    if (non2xx + errors > 0) throw new Error(`${build.label}: ${non2xx} non-2xx, ${errors} errors`);
    return (cpuMicros(build.server.pid!) - before[i]) / requests.total;
  });
}

async function main(): Promise<void> {
  const [dirA, dirB] = process.argv.slice(2).map((dir) => resolve(dir));
  if (!dirA || !dirB) throw new Error('usage: npm run bench:cpu-ab -- <dist of build A> <dist of build B>');
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisFor = process.env.BENCH_REDIS === 'a' ? ['A'] : process.env.BENCH_REDIS === 'off' ? [] : ['A', 'B'];
  const withRedis = redisFor.length > 0 && (await redisAnswers(redisUrl));
  const dataDirs: string[] = [];
  const builds: Build[] = [];
  try {
    for (const [index, dir] of [dirA, dirB].entries()) {
      const dataDir = mkdtempSync(join(tmpdir(), 'argus-cpu-ab-'));
      dataDirs.push(dataDir);
      const port = 4111 + index;
      const label = index === 0 ? 'A' : 'B';
      const server = launchServer([join(relative(ROOT, dir), 'main.js')], {
        ...ARGUS_BENCH_ENV,
        PORT: String(port),
        DATA_DIR: dataDir,
        ...(withRedis && redisFor.includes(label)
          ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `cpu-ab-${Date.now()}-${index}:` }
          : {}),
      });
      builds.push({ label, base: `http://127.0.0.1:${port}`, server, headers: {} });
    }
    for (const build of builds) {
      await waitForOk(`${build.base}/health/ready`, build.server);
      build.headers = { Authorization: `Bearer ${await registerBenchUser(build.base)}` };
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_S * 1000));
    // Warm-up: JIT, near cache, connection pools.
    await Promise.all(builds.map((build) => load(build, 5)));

    const ratios: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const [a, b] = await round(builds);
      ratios.push(b / a);
      console.log(
        `round ${r}/${ROUNDS}: A ${a.toFixed(0)} µs/request, B ${b.toFixed(0)} µs/request, B/A ${(b / a).toFixed(3)}`,
      );
    }
    console.log(
      `\nA = ${dirA}\nB = ${dirB}\n${RATE} req/s each, ${ROUNDS} rounds of ${DURATION_S} s, Redis: ${withRedis ? redisFor.join(' and ') : 'no'}`,
    );
    console.log(
      `CPU per request B/A: median ${median(ratios).toFixed(3)} (range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})`,
    );
  } finally {
    await Promise.all(builds.map((build) => stop(build.server)));
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}

if (!reexecPinned(__filename)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
