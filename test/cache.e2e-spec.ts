import { Global, LoggerService, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, TestingModule } from '@nestjs/testing';
import Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { on, once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheModule } from '../src/cache/cache.module';
import { CacheService, SingleFlightResult } from '../src/cache/cache.service';
import { MetricsService } from '../src/metrics/metrics.service';
import { RedisService } from '../src/redis/redis.service';
import { freePort, hasRedisServer, PrivateRedis, waitFor } from './support/net';
import type { ChildMessage } from './support/single-flight-child';

/** Stands in for an upstream call's duration, so concurrent callers really overlap. */
const UPSTREAM_LATENCY_MS = 300;
const canRun = Boolean(process.env.TEST_REDIS_URL) || hasRedisServer;

interface Payload {
  by: string;
}

@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
class TestMetricsModule {}

/** One "replica": its own Nest module, RedisService and CacheService. */
interface Replica {
  cache: CacheService;
  redis: RedisService;
  close(): Promise<void>;
}

type LogLevel = 'log' | 'warn' | 'error' | 'debug' | 'verbose';

/** Collects what every replica's Nest loggers write, to count log events. */
class LogRecorder implements LoggerService {
  private entries: { level: LogLevel; msg: unknown }[] = [];

  log(message: unknown): void {
    this.record('log', message);
  }
  warn(message: unknown): void {
    this.record('warn', message);
  }
  error(message: unknown): void {
    this.record('error', message);
  }
  debug(message: unknown): void {
    this.record('debug', message);
  }
  verbose(message: unknown): void {
    this.record('verbose', message);
  }

  count(level: LogLevel, msg: string): number {
    return this.entries.filter((e) => e.level === level && e.msg === msg).length;
  }

  clear(): void {
    this.entries = [];
  }

  private record(level: LogLevel, message: unknown): void {
    const msg = typeof message === 'object' && message !== null && 'msg' in message ? message.msg : message;
    this.entries.push({ level, msg });
  }
}

const logs = new LogRecorder();

async function startReplica(url: string, keyPrefix: string): Promise<Replica> {
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ redis: { url, keyPrefix } })] }),
      TestMetricsModule,
      CacheModule,
    ],
  })
    .setLogger(logs)
    .compile();
  await moduleRef.init();
  return { cache: moduleRef.get(CacheService), redis: moduleRef.get(RedisService), close: () => moduleRef.close() };
}

/** A private redis-server and two replicas sharing it, once they do. */
async function startPrivatePair(keyPrefix: string): Promise<{ server: PrivateRedis; a: Replica; b: Replica }> {
  const server = new PrivateRedis(await freePort());
  await server.start();
  const [a, b] = await Promise.all([startReplica(server.url, keyPrefix), startReplica(server.url, keyPrefix)]);
  await waitFor(() => sharesValues(a, b), 10_000, 'both replicas to reach Redis');
  return { server, a, b };
}

/**
 * True once both replicas' connections are up and a value written through `writer` is read back
 * through `reader` (i.e. via Redis).
 */
async function sharesValues(writer: Replica, reader: Replica): Promise<boolean> {
  if (!writer.redis.available || !reader.redis.available) return false;
  const key = `probe-${randomUUID()}`;
  await writer.cache.set(key, { by: 'probe' }, 10_000);
  return (await reader.cache.get<Payload>(key, 'test'))?.by === 'probe';
}

/**
 * Lets other replicas hear the last write's announcement: a read racing it keeps no near copy (it
 * could be the value from before the write), and these tests need the copy kept.
 */
function announced(): Promise<void> {
  return sleep(100);
}

/** A promise's value and how long it took to settle. */
async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

function upstreamCounter(): { fn: (by: string) => () => Promise<Payload>; calls: () => number } {
  let calls = 0;
  return {
    fn: (by) => async () => {
      calls += 1;
      await sleep(UPSTREAM_LATENCY_MS);
      return { by };
    },
    calls: () => calls,
  };
}

/** Node with ts-node, running test/support/single-flight-child.ts with an IPC channel. */
function spawnChildReplica(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'support/single-flight-child.ts')], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '../tsconfig.json'), ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

async function nextMessage(messages: AsyncIterator<unknown[]>): Promise<ChildMessage> {
  const next = await messages.next();
  if (next.done) throw new Error('child replica exited without answering');
  return next.value[0] as ChildMessage;
}

function fresh(results: SingleFlightResult<Payload>[]): number {
  return results.filter((r) => !r.cached).length;
}

(canRun ? describe : describe.skip)('CacheService against a real Redis', () => {
  const keyPrefix = `argus-test-${randomUUID().slice(0, 8)}:`;
  let server: PrivateRedis | undefined;
  let url: string;
  let raw: Redis;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    if (process.env.TEST_REDIS_URL) {
      url = process.env.TEST_REDIS_URL;
    } else {
      server = new PrivateRedis(await freePort());
      await server.start();
      url = server.url;
    }
    raw = new Redis(url);
    [a, b] = await Promise.all([startReplica(url, keyPrefix), startReplica(url, keyPrefix)]);
    await waitFor(() => sharesValues(a, b), 10_000, 'both replicas to reach Redis');
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    if (raw) {
      const keys = await raw.keys(`${keyPrefix}*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    }
    await server?.kill();
  });

  it('writes values under <prefix>cache: and reads them from either replica', async () => {
    await a.cache.set('greeting', { by: 'a' }, 10_000);

    await expect(b.cache.get('greeting', 'test')).resolves.toEqual({ by: 'a' });
    await expect(raw.exists(`${keyPrefix}cache:greeting`)).resolves.toBe(1);
    const ttl = await raw.pttl(`${keyPrefix}cache:greeting`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it('answers a repeated read from its near copy, and drops the copy when another replica writes', async () => {
    await a.cache.set('near', { by: 'a' }, 10_000);
    await announced();
    await expect(b.cache.get('near', 'test')).resolves.toEqual({ by: 'a' }); // read from Redis, kept by b

    // Changed in Redis behind every replica's back (nothing announced): b answers its copy, not Redis.
    const behindTheirBacks = JSON.stringify({ value: { by: 'raw' }, expires: Date.now() + 10_000 });
    await raw.set(`${keyPrefix}cache:near`, behindTheirBacks, 'PX', 10_000);
    await expect(b.cache.get('near', 'test')).resolves.toEqual({ by: 'a' });

    // A write through a replica is announced: b drops its copy (well before the 10 s TTL) and reads Redis.
    await a.cache.set('near', { by: 'a again' }, 10_000);
    await waitFor(async () => (await b.cache.get<Payload>('near', 'test'))?.by === 'a again', 1_000, 'b to drop its copy');
  });

  it('drops every replica\'s near copy of a key deleted through one of them', async () => {
    await a.cache.set('doomed-near', { by: 'a' }, 10_000);
    await announced();
    await expect(b.cache.get('doomed-near', 'test')).resolves.toEqual({ by: 'a' });
    await expect(a.cache.get('doomed-near', 'test')).resolves.toEqual({ by: 'a' });

    await a.cache.delete('doomed-near');

    await expect(a.cache.get('doomed-near', 'test')).resolves.toBeUndefined();
    await waitFor(async () => (await b.cache.get('doomed-near', 'test')) === undefined, 1_000, 'b to drop its copy');
  });

  it('runs fn once in total for 5 concurrent calls on each of two replicas', async () => {
    const upstream = upstreamCounter();

    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => a.cache.singleFlight('two-replicas', 60_000, upstream.fn('a'), 'test')),
      ...Array.from({ length: 5 }, () => b.cache.singleFlight('two-replicas', 60_000, upstream.fn('b'), 'test')),
    ]);

    expect(upstream.calls()).toBe(1);
    expect(fresh(results)).toBe(1);
    expect(new Set(results.map((r) => r.value.by)).size).toBe(1);
    await expect(raw.exists(`${keyPrefix}lock:two-replicas`)).resolves.toBe(0);
  });

  it('takes over when the leader crashed: its lock expires without a result', async () => {
    const lockKey = `${keyPrefix}lock:crashed`;
    await raw.set(lockKey, 'crashed-leader', 'PX', 400);
    let lockSeenByFn: string | null = 'not called';

    const result = await a.cache.singleFlight(
      'crashed',
      60_000,
      async () => {
        lockSeenByFn = await raw.get(lockKey);
        return { by: 'successor' };
      },
      'test',
    );

    expect(result).toEqual({ value: { by: 'successor' }, cached: false });
    expect(lockSeenByFn).not.toBe('crashed-leader');
    await expect(b.cache.get('crashed', 'test')).resolves.toEqual({ by: 'successor' });
  });

  it("lets another replica take over when the leader's fn fails, and caches nothing from the failure", async () => {
    const lockKey = `${keyPrefix}lock:failing`;
    const failure = new Error('upstream 502');
    const leader = a.cache.singleFlight(
      'failing',
      60_000,
      async () => {
        await sleep(UPSTREAM_LATENCY_MS);
        throw failure;
      },
      'test',
    );
    await waitFor(async () => (await raw.exists(lockKey)) === 1, 5_000, 'the leader to take the lock');

    const follower = b.cache.singleFlight('failing', 60_000, async () => ({ by: 'b' }), 'test');

    await expect(leader).rejects.toBe(failure);
    await expect(follower).resolves.toEqual({ value: { by: 'b' }, cached: false });
    await expect(raw.exists(lockKey)).resolves.toBe(0);
  });

  it('releases the lock only while it still owns it', async () => {
    const lockKey = `${keyPrefix}lock:stolen`;

    await a.cache.singleFlight(
      'stolen',
      60_000,
      async () => {
        // As if our lease had expired and another replica had taken the lock over.
        await raw.set(lockKey, 'other-owner', 'PX', 10_000);
        return { by: 'a' };
      },
      'test',
    );

    await expect(raw.get(lockKey)).resolves.toBe('other-owner');
  });

  it('runs fn once across two real processes (parent and a child node process)', async () => {
    const counterKey = `${keyPrefix}counter:cross-process`;
    const child = spawnChildReplica({
      REDIS_URL: url,
      KEY_PREFIX: keyPrefix,
      FLIGHT_KEY: 'cross-process',
      COUNTER_KEY: counterKey,
      CALLS: '3',
      FN_LATENCY_MS: String(UPSTREAM_LATENCY_MS),
    });
    const exited = once(child, 'exit');
    const messages = on(child, 'message');

    expect((await nextMessage(messages)).type).toBe('ready');
    child.send('go');
    const parentResults = await Promise.all(
      Array.from({ length: 3 }, () =>
        a.cache.singleFlight(
          'cross-process',
          60_000,
          async () => {
            await raw.incr(counterKey);
            await sleep(UPSTREAM_LATENCY_MS);
            return { by: 'parent' };
          },
          'test',
        ),
      ),
    );
    const childMessage = await nextMessage(messages);
    const [exitCode] = (await exited) as [number | null];

    expect(exitCode).toBe(0);
    const childResults = childMessage.type === 'results' ? childMessage.results : [];
    expect(childResults).toHaveLength(3);
    await expect(raw.get(counterKey)).resolves.toBe('1');
    expect(fresh([...parentResults, ...childResults])).toBe(1);
    expect(new Set([...parentResults, ...childResults].map((r) => r.value.by)).size).toBe(1);
  });
});

const DEGRADED = 'redis unavailable, cache and single-flight degraded to in-process';
const RECOVERED = 'redis available again, cache and single-flight shared across replicas';

(hasRedisServer ? describe : describe.skip)('CacheService when Redis fails', () => {
  const keyPrefix = `argus-test-${randomUUID().slice(0, 8)}:`;
  let server: PrivateRedis;
  let a: Replica;
  let b: Replica;
  const extra: Replica[] = [];

  beforeAll(async () => {
    ({ server, a, b } = await startPrivatePair(keyPrefix));
  });

  afterAll(async () => {
    server?.signal('SIGCONT');
    await Promise.all([a?.close(), b?.close(), ...extra.map((r) => r.close())]);
    await server?.kill();
  });

  it('does not hang when Redis stops answering, and shares again once it answers', async () => {
    logs.clear();
    server.signal('SIGSTOP');
    try {
      const set = await timed(a.cache.set('frozen', { by: 'a' }, 60_000));
      const get = await timed(a.cache.get<Payload>('frozen', 'test'));
      const flight = await timed(a.cache.singleFlight('frozen-flight', 60_000, async () => ({ by: 'a' }), 'test'));
      console.log(`Redis frozen (SIGSTOP): set ${set.ms.toFixed(0)} ms, get ${get.ms.toFixed(0)} ms, singleFlight ${flight.ms.toFixed(0)} ms`);

      expect(flight.value).toEqual({ value: { by: 'a' }, cached: false });
    } finally {
      server.signal('SIGCONT');
    }
    await waitFor(() => sharesValues(a, b), 15_000, 'Redis to be shared again after SIGCONT');
    expect(logs.count('warn', DEGRADED)).toBe(1);
    expect(logs.count('log', RECOVERED)).toBe(1);
  });

  it('serves get, set and singleFlight in-process while Redis is dead, warning once per replica', async () => {
    logs.clear();
    await server.kill();
    const upstream = upstreamCounter();
    const latencies: Record<string, number[]> = { set: [], get: [], singleFlight: [] };

    for (let round = 0; round < 5; round++) {
      const key = `dead-${round}`;
      const set = await timed(a.cache.set(key, { by: 'a' }, 60_000));
      const get = await timed(a.cache.get<Payload>(key, 'test'));
      const flights = await timed(
        Promise.all(Array.from({ length: 5 }, () => a.cache.singleFlight(`${key}-flight`, 60_000, upstream.fn('a'), 'test'))),
      );
      latencies.set.push(set.ms);
      latencies.get.push(get.ms);
      latencies.singleFlight.push(flights.ms - UPSTREAM_LATENCY_MS);

      expect(get.value).toEqual({ by: 'a' });
      expect(fresh(flights.value)).toBe(1);
    }
    await expect(b.cache.get('dead-0', 'test')).resolves.toBeUndefined();
    await expect(b.cache.delete('dead-0')).resolves.toBeUndefined();
    expect(upstream.calls()).toBe(5);
    const summary = Object.entries(latencies).map(([op, ms]) => `${op} max ${Math.max(...ms).toFixed(1)} ms`);
    console.log(`Redis dead (SIGKILL), per call beyond fn: ${summary.join(', ')}`);
    // Dozens of failed calls on replica a, yet one warning from its cache and one per ioredis
    // connection (commands and near-cache invalidations, on each of the two replicas).
    expect(logs.count('warn', DEGRADED)).toBe(1);
    expect(logs.count('warn', 'redis connection lost')).toBe(4);
  });

  it('shuts a replica down promptly while Redis is dead', async () => {
    const doomed = await startReplica(server.url, keyPrefix);
    await doomed.cache.set('doomed', { by: 'doomed' }, 60_000);

    const closing = await timed(doomed.close());

    console.log(`Replica shutdown with Redis dead: ${closing.ms.toFixed(0)} ms`);
    await expect(doomed.cache.get('doomed', 'test')).resolves.toEqual({ by: 'doomed' });
  });

  it('starts a replica while Redis is dead, and shares across all replicas once Redis is back', async () => {
    logs.clear();
    const late = await startReplica(server.url, keyPrefix);
    extra.push(late);
    await late.cache.set('cold', { by: 'late' }, 60_000);
    await expect(late.cache.get('cold', 'test')).resolves.toEqual({ by: 'late' });

    await server.start();
    await waitFor(() => sharesValues(a, b), 15_000, 'a and b to share again');
    await waitFor(() => sharesValues(late, a), 15_000, 'the late replica to share');

    const upstream = upstreamCounter();
    const results = await Promise.all([
      ...Array.from({ length: 3 }, () => a.cache.singleFlight('after-restart', 60_000, upstream.fn('a'), 'test')),
      ...Array.from({ length: 3 }, () => b.cache.singleFlight('after-restart', 60_000, upstream.fn('b'), 'test')),
      ...Array.from({ length: 3 }, () => late.cache.singleFlight('after-restart', 60_000, upstream.fn('late'), 'test')),
    ]);
    expect(upstream.calls()).toBe(1);
    expect(fresh(results)).toBe(1);
    // Once per ioredis connection of the late replica; restored: both connections of all three.
    expect(logs.count('warn', 'redis unreachable')).toBe(2);
    expect(logs.count('log', 'redis connection restored')).toBe(6);
  });
});

(hasRedisServer ? describe : describe.skip)('CacheService near cache when Redis dies', () => {
  const keyPrefix = `argus-test-${randomUUID().slice(0, 8)}:`;
  let server: PrivateRedis;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    ({ server, a, b } = await startPrivatePair(keyPrefix));
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await server?.kill();
  });

  it('empties the near cache when Redis dies, rather than serve copies nobody can invalidate any more', async () => {
    await a.cache.set('orphan', { by: 'a' }, 60_000);
    await announced();
    await expect(b.cache.get('orphan', 'test')).resolves.toEqual({ by: 'a' }); // b keeps a near copy
    await expect(b.cache.get('orphan', 'test')).resolves.toEqual({ by: 'a' });

    await server.kill();

    // b's in-process fallback never had the value: only a near copy could still answer it.
    await waitFor(async () => (await b.cache.get('orphan', 'test')) === undefined, 5_000, 'b to drop its near copy');
  });
});
