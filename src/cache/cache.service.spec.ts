import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.types';
import { CacheResult, MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { CacheService } from './cache.service';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function cacheCount(metrics: MetricsService, cache: string, result: CacheResult): Promise<number> {
  const metric = metrics.registry.getSingleMetric('argus_cache_requests_total');
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.cache === cache && v.labels.result === result)?.value ?? 0;
}

describe('CacheService (in-process mode)', () => {
  let metrics: MetricsService;
  let redis: RedisService;
  let sut: CacheService;

  beforeEach(() => {
    const config = new ConfigService<AppConfig, true>({ redis: { keyPrefix: 'argus-unit:' } });
    metrics = new MetricsService();
    redis = new RedisService(config);
    sut = new CacheService(metrics, redis);
  });

  afterEach(async () => {
    jest.useRealTimers();
    await sut.onModuleDestroy();
    await redis.onModuleDestroy();
  });

  it('counts a miss, then a hit once the value is stored', async () => {
    await expect(sut.get('k', 'analysis')).resolves.toBeUndefined();
    await sut.set('k', { answer: 42 }, 60_000);

    await expect(sut.get('k', 'analysis')).resolves.toEqual({ answer: 42 });
    await expect(cacheCount(metrics, 'analysis', 'miss')).resolves.toBe(1);
    await expect(cacheCount(metrics, 'analysis', 'hit')).resolves.toBe(1);
  });

  it('returns a copy, so a caller mutating its value does not change the cache', async () => {
    await sut.set('k', { tags: ['a'] }, 60_000);
    const first = await sut.get<{ tags: string[] }>('k', 'analysis');
    first?.tags.push('b');

    await expect(sut.get('k', 'analysis')).resolves.toEqual({ tags: ['a'] });
  });

  it('forgets a value once its TTL has passed', async () => {
    jest.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') });
    await sut.set('k', { v: 1 }, 1_000);

    jest.setSystemTime(new Date('2025-01-01T00:00:00.999Z'));
    await expect(sut.get('k', 'ip')).resolves.toEqual({ v: 1 });

    jest.setSystemTime(new Date('2025-01-01T00:00:01.001Z'));
    await expect(sut.get('k', 'ip')).resolves.toBeUndefined();
  });

  it('stores nothing when the TTL is zero (caching disabled)', async () => {
    await sut.set('k', { v: 1 }, 0);

    await expect(sut.get('k', 'ip')).resolves.toBeUndefined();
  });

  it('deletes a value', async () => {
    await sut.set('k', { v: 1 }, 60_000);
    await sut.delete('k');

    await expect(sut.get('k', 'ip')).resolves.toBeUndefined();
  });

  it('runs fn once for 10 concurrent callers; only the caller whose fn ran gets cached: false', async () => {
    const upstream = deferred<{ summary: string }>();
    const fn = jest.fn(() => upstream.promise);

    const calls = Array.from({ length: 10 }, () => sut.singleFlight('img', 60_000, fn, 'analysis'));
    upstream.resolve({ summary: 'a cat' });
    const results = await Promise.all(calls);

    expect(fn).toHaveBeenCalledTimes(1);
    expect(results.every((r) => r.value.summary === 'a cat')).toBe(true);
    expect(results.filter((r) => !r.cached)).toHaveLength(1);
    expect(results.filter((r) => r.cached)).toHaveLength(9);
  });

  it('answers later calls from the cache without calling fn', async () => {
    await sut.singleFlight('img', 60_000, () => Promise.resolve({ n: 1 }), 'analysis');
    const fn = jest.fn(() => Promise.resolve({ n: 2 }));

    await expect(sut.singleFlight('img', 60_000, fn, 'analysis')).resolves.toEqual({ value: { n: 1 }, cached: true });
    expect(fn).not.toHaveBeenCalled();
  });

  it("gives every concurrent caller the leader's rejection and caches nothing", async () => {
    const upstream = deferred<{ n: number }>();
    const fn = jest.fn(() => upstream.promise);
    const failure = new Error('upstream 502');

    const calls = Array.from({ length: 5 }, () => sut.singleFlight('img', 60_000, fn, 'analysis'));
    upstream.reject(failure);
    const settled = await Promise.allSettled(calls);

    expect(fn).toHaveBeenCalledTimes(1);
    expect(settled.every((s) => s.status === 'rejected' && s.reason === failure)).toBe(true);
    await expect(sut.get('img', 'analysis')).resolves.toBeUndefined();

    const retry = jest.fn(() => Promise.resolve({ n: 2 }));
    await expect(sut.singleFlight('img', 60_000, retry, 'analysis')).resolves.toEqual({ value: { n: 2 }, cached: false });
    expect(retry).toHaveBeenCalledTimes(1);
  });

  it('keeps flights of different keys apart', async () => {
    const fn = jest.fn((n: number) => Promise.resolve({ n }));

    const [a, b] = await Promise.all([
      sut.singleFlight('a', 60_000, () => fn(1), 'ip'),
      sut.singleFlight('b', 60_000, () => fn(2), 'ip'),
    ]);

    expect(fn).toHaveBeenCalledTimes(2);
    expect([a, b]).toEqual([
      { value: { n: 1 }, cached: false },
      { value: { n: 2 }, cached: false },
    ]);
  });
});
