/**
 * `npm run bench:stack`: what each piece of the stack costs a cached lookup, in µs per request.
 *
 * Runs (b) the plain NestJS app and (c) Argus's authenticated, cached `GET /v1/ip/8.8.8.8` — with
 * Redis, or on the embedded default with `BENCH_REDIS=off` (c0) — under `node --cpu-prof`, one at
 * a time, each saturated by wrk (autocannon where wrk is missing) for BENCH_DURATION_S (10) s at
 * BENCH_CONNECTIONS (50) after a warm-up; servers on core 1, load on core 0 (`taskset`). For each,
 * it reads the process's CPU time over the measured window (/proc) and divides by the requests
 * served: CPU µs per request. The window's profile samples are then grouped into pieces (a package,
 * an Argus room, Node's HTTP and stream internals, AsyncLocalStorage, GC; a native frame counts for
 * the nearest caller that has a source) and each piece's share of the samples, times the µs per
 * request, is what it costs. The profiler adds its own overhead (a few %), so compare pieces within
 * one run. BENCH_NODE runs the servers on another Node (see docs/performance.md); BENCH_PROFILE_DIR
 * keeps the two `.cpuprofile` files (Chrome DevTools opens them). Linux only.
 * Not a test: numbers only.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerBenchUser } from './support/accounts';
import { measure, Sample } from './support/load';
import {
  ARGUS_BENCH_ENV,
  cpuMicros,
  launchServer,
  redisAnswers,
  reexecPinned,
  stop,
  waitForOk,
} from './support/processes';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 20);
const ADDRESS = '8.8.8.8';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Measured {
  label: string;
  sample: Sample;
  requests: number;
  cpuMicrosPerRequest: number;
  pieces: Map<string, number>;
}

/** Packages that make up one piece of the stack. */
const PACKAGE_PIECES: Record<string, string> = {
  express: 'express + router',
  router: 'express + router',
  finalhandler: 'express + router',
  send: 'express response (send, etag, fresh)',
  etag: 'express response (send, etag, fresh)',
  fresh: 'express response (send, etag, fresh)',
  'content-type': 'express response (send, etag, fresh)',
  'content-disposition': 'express response (send, etag, fresh)',
  vary: 'express response (send, etag, fresh)',
  'on-finished': 'express response (send, etag, fresh)',
  parseurl: 'express + router',
  'path-to-regexp': 'express + router',
  qs: 'express + router',
  'proxy-addr': 'express request (proxy-addr, accepts)',
  forwarded: 'express request (proxy-addr, accepts)',
  accepts: 'express request (proxy-addr, accepts)',
  negotiator: 'express request (proxy-addr, accepts)',
  'type-is': 'express request (proxy-addr, accepts)',
  depd: 'express + router',
  '@nestjs/core': 'nest',
  '@nestjs/common': 'nest',
  '@nestjs/platform-express': 'nest',
  'reflect-metadata': 'nest',
  'nestjs-pino': 'pino',
  pino: 'pino',
  'sonic-boom': 'pino',
  'fast-redact': 'pino',
  'quick-format-unescaped': 'pino',
  'prom-client': 'prom-client',
  tdigest: 'prom-client',
  bintrees: 'prom-client',
  ioredis: 'ioredis',
  '@ioredis/commands': 'ioredis',
  'redis-parser': 'ioredis',
  denque: 'ioredis',
  'standard-as-callback': 'ioredis',
  'cluster-key-slot': 'ioredis',
  jsonwebtoken: 'jsonwebtoken',
  jws: 'jsonwebtoken',
  jwa: 'jsonwebtoken',
};

/** The piece a source belongs to, or undefined for a native frame (no source). */
export function pieceOf(url: string): string | undefined {
  if (url === '') return undefined;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg !== undefined) return PACKAGE_PIECES[pkg] ?? pkg;
  const argus = /\/dist\/([^/]+)(?:\/([^/]+)\/)?/.exec(url);
  if (argus) return `argus ${argus[1]}${argus[1] === 'common' && argus[2] ? `/${argus[2]}` : ''}`;
  if (/^node:(internal\/)?async_hooks|async_local_storage|async_context_frame/.test(url)) return 'AsyncLocalStorage';
  if (/^node:(_http_|net|internal\/(streams|stream_base|http))/.test(url)) return 'node http + streams';
  if (url.startsWith('node:internal/process/task_queues') || url.startsWith('node:internal/timers')) {
    return 'node task queues + timers';
  }
  if (url.startsWith('node:')) return 'node (other)';
  return 'other';
}

/** Each piece's share of the profile's samples between `fromUs` and `toUs` (the profile's clock). */
export function piecesOf(profile: CpuProfile, fromUs: number, toUs: number): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const pieceById = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = pieceById.get(id);
    if (known !== undefined) return known;
    const { functionName, url } = byId.get(id)!.callFrame;
    let piece: string;
    if (functionName === '(garbage collector)') piece = 'GC';
    else if (functionName === '(program)') piece = 'V8 (program)';
    else if (functionName === '(idle)') piece = '(idle)';
    else if (functionName === '(root)') piece = 'other';
    else piece = pieceOf(url) ?? (parent.has(id) ? resolve(parent.get(id)!) : 'other');
    pieceById.set(id, piece);
    return piece;
  };
  const counts = new Map<string, number>();
  let at = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, index) => {
    at += profile.timeDeltas[index];
    if (at < fromUs || at > toUs) return;
    const piece = resolve(id);
    if (piece === '(idle)') return;
    counts.set(piece, (counts.get(piece) ?? 0) + 1);
    total++;
  });
  return new Map([...counts].map(([piece, count]) => [piece, count / total]));
}


const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

async function profiled(
  label: string,
  server: ChildProcess,
  profileDir: string,
  url: string,
  headers: Record<string, string>,
): Promise<Measured> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_S * 1000));
  await measure({ url, headers }, 3, CONNECTIONS);
  const cpuBefore = cpuMicros(server.pid!);
  const from = monotonicMicros();
  const sample = await measure({ url, headers }, DURATION_S, CONNECTIONS);
  const to = monotonicMicros();
  const cpu = cpuMicros(server.pid!) - cpuBefore;
  await stop(server);
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`${label}: no profile written in ${profileDir}`);
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;
  const keep = process.env.BENCH_PROFILE_DIR;
  if (keep !== undefined) {
    mkdirSync(keep, { recursive: true });
    copyFileSync(join(profileDir, file), join(keep, `${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`));
  }
  const requests = sample.rps * ((to - from) / 1e6);
  // V8's profile clock and process.hrtime are both CLOCK_MONOTONIC on Linux.
  return { label, sample, requests, cpuMicrosPerRequest: cpu / requests, pieces: piecesOf(profile, from, to) };
}

function report(runs: Measured[]): void {
  for (const run of runs) {
    console.log(
      `${run.label}: ${Math.round(run.sample.rps)} req/s, p99 ${run.sample.p99.toFixed(1)} ms, ` +
        `${run.cpuMicrosPerRequest.toFixed(1)} CPU µs per request (profiler on)`,
    );
  }
  const pieces = [...new Set(runs.flatMap((run) => [...run.pieces.keys()]))];
  const cost = (run: Measured, piece: string) => (run.pieces.get(piece) ?? 0) * run.cpuMicrosPerRequest;
  const last = runs[runs.length - 1];
  pieces.sort((x, y) => cost(last, y) - cost(last, x));
  console.table(
    pieces.map((piece) =>
      Object.fromEntries([
        ['piece', piece],
        ...runs.flatMap((run) => [
          [`${run.label} µs`, Number(cost(run, piece).toFixed(1))],
          [`${run.label} %`, Number(((run.pieces.get(piece) ?? 0) * 100).toFixed(1))],
        ]),
      ]),
    ),
  );
}

async function main(): Promise<void> {
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const withRedis = process.env.BENCH_REDIS !== 'off' && (await redisAnswers(redisUrl));
  const tmp = mkdtempSync(join(tmpdir(), 'argus-stack-'));
  const servers: ChildProcess[] = [];
  try {
    const argusDir = join(tmp, 'argus-profile');
    const database = process.env.BENCH_DATABASE_URL;
    const argus = launchServer(['--cpu-prof', `--cpu-prof-dir=${argusDir}`, 'dist/main.js'], {
      ...ARGUS_BENCH_ENV,
      PORT: '4123',
      DATA_DIR: join(tmp, 'argus-data'),
      ...(database ? { DATABASE_URL: database } : {}),
      ...(withRedis ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `bench-stack-${Date.now()}:` } : {}),
    });
    servers.push(argus);
    const base = 'http://127.0.0.1:4123';
    await waitForOk(`${base}/health/ready`, argus);
    const headers = { Authorization: `Bearer ${await registerBenchUser(base)}` };
    const lookup = `${base}/v1/ip/${ADDRESS}`;
    await fetch(lookup, { headers }); // fills the cache
    const body = await (await fetch(lookup, { headers })).text();

    // The plain app returns Argus's own answer; it is measured first, while Argus idles.
    const nestDir = join(tmp, 'nest-profile');
    const plainArgs = ['-r', 'ts-node/register/transpile-only', 'bench/servers/plain-nest.server.ts'];
    const plain = launchServer(['--cpu-prof', `--cpu-prof-dir=${nestDir}`, ...plainArgs], {
      BENCH_BODY: body,
      PORT: '4122',
    });
    servers.push(plain);
    const plainUrl = `http://127.0.0.1:4122/v1/ip/${ADDRESS}`;
    await waitForOk(plainUrl, plain);
    const runs = [await profiled('(b) plain Nest', plain, nestDir, plainUrl, {})];
    runs.push(await profiled(withRedis ? '(c) Argus, Redis' : '(c0) Argus, embedded', argus, argusDir, lookup, headers));
    report(runs);
  } finally {
    await Promise.all(servers.map(stop));
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (require.main === module && !reexecPinned(__filename)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
