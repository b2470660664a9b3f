import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const SERVER_CORE = process.env.BENCH_SERVER_CORE ?? '1';

/**
 * How the benchmarks run Argus: the production build and checks, embedded SQLite, JSON logs at
 * info, glibc arenas capped as in the container image, and limits raised out of the way (they
 * measure capacity, not the rate limiter).
 */
export const ARGUS_BENCH_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  MALLOC_ARENA_MAX: '2',
  ALLOW_EMBEDDED_DB: 'true',
  JWT_SECRET: 'bench-secret-that-is-at-least-thirty-two-bytes-long',
  LOG_LEVEL: 'info',
  BCRYPT_COST: '10',
  RATE_LIMIT_PER_MINUTE: '1000000',
  AUTH_RATE_LIMIT_PER_MINUTE: '1000000',
  ANALYSIS_RATE_LIMIT_PER_MINUTE: '1000000',
  IP_RATE_LIMIT_PER_MINUTE: '1000000',
  AI_DAILY_LIMIT_PER_USER: '1000000',
};

let tasksetAvailable: boolean | undefined;

export function hasTaskset(): boolean {
  if (tasksetAvailable === undefined) {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      tasksetAvailable = true;
    } catch {
      tasksetAvailable = false;
    }
  }
  return tasksetAvailable;
}

/**
 * The Node binary the servers run on: BENCH_NODE (for example Node 24 installed outside the repo,
 * see docs/performance.md), else the one running the bench.
 */
export function benchNode(): string {
  return process.env.BENCH_NODE ?? process.execPath;
}

/** Starts `node <args>` (BENCH_NODE) from the project root, pinned to the server core where `taskset` exists. */
export function launchServer(args: string[], env: Record<string, string>): ChildProcess {
  return launchProcess(benchNode(), args, env);
}

/** Starts `executable <args>` from the project root, pinned to the server core where `taskset` exists. */
export function launchProcess(executable: string, args: string[], env: Record<string, string>): ChildProcess {
  const argv = [executable, ...args];
  const [command, ...rest] = hasTaskset() ? ['taskset', '-c', SERVER_CORE, ...argv] : argv;
  return spawn(command, rest, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Resolves once `url` answers 2xx; fails early if `server` exits first. */
export async function waitForOk(url: string, server?: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server && server.exitCode !== null) {
      throw new Error(`server exited with code ${server.exitCode} before ${url} answered`);
    }
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Re-runs the calling script pinned to core 0 (the load generator's core) where `taskset` exists;
 * returns false in the pinned child, which then does the work.
 */
export function reexecPinned(scriptPath: string): boolean {
  if (!hasTaskset() || process.env.BENCH_PINNED) return false;
  const args = [...process.execArgv, scriptPath, ...process.argv.slice(2)];
  const child = spawn('taskset', ['-c', '0', process.execPath, ...args], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
  return true;
}

let clockTicksPerS: number | undefined;

/** A process's CPU time so far (user + system, all its threads), in microseconds. Linux only (/proc). */
export function cpuMicros(pid: number): number {
  clockTicksPerS ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicksPerS;
}
