/**
 * A second "replica" for test/cache.e2e-spec.ts, run as a child process with an IPC channel: builds
 * its own CacheService against the Redis in REDIS_URL, sends `{ type: 'ready' }`, waits for the
 * parent's `go`, then runs CALLS concurrent singleFlight calls on FLIGHT_KEY whose fn increments
 * COUNTER_KEY in Redis, and sends `{ type: 'results', results }`.
 */
import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import Redis from 'ioredis';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheService, SingleFlightResult } from '../../src/cache/cache.service';
import type { AppConfig } from '../../src/config/config.types';
import { MetricsService } from '../../src/metrics/metrics.service';
import { RedisService } from '../../src/redis/redis.service';

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'results'; results: SingleFlightResult<{ by: string }>[] };

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function main(): Promise<void> {
  const url = env('REDIS_URL');
  const config = new ConfigService<AppConfig, true>({ redis: { url, keyPrefix: env('KEY_PREFIX') } });
  const redis = new RedisService(config);
  const cache = new CacheService(new MetricsService(), redis);
  const counter = new Redis(url);
  const latencyMs = Number(env('FN_LATENCY_MS'));

  const upstream = async (): Promise<{ by: string }> => {
    await counter.incr(env('COUNTER_KEY'));
    await sleep(latencyMs); // stands in for the upstream call's duration
    return { by: `child-${process.pid}` };
  };

  await waitUntilShared(cache, redis, counter, env('KEY_PREFIX'));
  send({ type: 'ready' });
  await once(process, 'message');

  const calls = Array.from({ length: Number(env('CALLS')) }, () =>
    cache.singleFlight(env('FLIGHT_KEY'), 60_000, upstream, 'test'),
  );
  const results = await Promise.all(calls);
  send({ type: 'results', results });

  await cache.onModuleDestroy();
  await redis.onModuleDestroy();
  await counter.quit();
  process.disconnect();
}

/**
 * Polls until the lock connection is ready and a value written through the cache lands in Redis,
 * i.e. this replica no longer runs in-process only.
 */
async function waitUntilShared(cache: CacheService, redis: RedisService, raw: Redis, keyPrefix: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const key = `child-probe-${process.pid}-${attempt}`;
    await cache.set(key, { probe: true }, 10_000);
    if (redis.available && (await raw.exists(`${keyPrefix}cache:${key}`)) === 1) return;
    await sleep(50);
  }
  throw new Error('the child replica never reached Redis');
}

function send(message: ChildMessage): void {
  if (!process.send) throw new Error('run me with an IPC channel');
  process.send(message);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
