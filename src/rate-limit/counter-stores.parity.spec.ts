import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { CountRequest } from './counter-store';
import { InProcessCounterStore } from './in-process-counter.store';
import { RedisCounterStore } from './redis-counter.store';
import type { HitOutcome } from './sliding-window';

const WINDOW = 60_000;
const T0 = 29_000_000 * WINDOW;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Step {
  at: number;
  counts: CountRequest[];
}

const hit = (key: string, limit: number, cost = 1): CountRequest => ({ key, windowMs: WINDOW, limit, cost });

/**
 * One sequence of requests — several counters per request, bursts, refusals, costs, window edges,
 * a window skipped — in the order and at the instants both stores see them.
 */
function sequence(): Step[] {
  const steps: Step[] = [];
  const at = (ms: number, ...counts: CountRequest[]) => steps.push({ at: T0 + ms, counts });
  for (let i = 0; i < 6; i++) at(1_000 + i, hit('ip-a', 4), hit('user-a', 3));
  for (let i = 0; i < 3; i++) at(2_000, hit('ip-b', 4), hit('user-a', 3));
  at(30_000, hit('user-b', 10, 6));
  at(30_001, hit('user-b', 10, 6));
  at(30_002, hit('user-b', 10, 4));
  at(59_999, hit('ip-a', 4));
  for (let ms = 60_000; ms < 130_000; ms += 3_517) {
    at(ms, hit('ip-a', 4), hit('user-a', 3));
    at(ms + 1, hit('user-b', 10, 3));
  }
  at(4 * WINDOW + 12_345, hit('ip-a', 4), hit('ip-b', 4), hit('user-a', 3));
  at(4 * WINDOW + 12_346, hit('big', 1_000_000, 999_999), hit('big', 1_000_000, 2));
  return steps;
}

async function run(
  countAll: (counts: CountRequest[]) => Promise<HitOutcome[]> | HitOutcome[],
  setNow: (at: number) => void,
): Promise<HitOutcome[][]> {
  const decisions: HitOutcome[][] = [];
  for (const step of sequence()) {
    setNow(step.at);
    decisions.push(await countAll(step.counts));
  }
  return decisions;
}

describe('the Redis and in-process counter stores', () => {
  let redis: Redis | undefined;
  beforeAll(async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    try {
      await client.connect();
      redis = client;
    } catch {
      client.disconnect();
      console.warn(`Redis at ${REDIS_URL} is unreachable: only the in-process half of the parity spec runs`);
    }
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('give the same answers, to the millisecond, for the same hits at the same instants', async () => {
    let now = 0;
    const local = new InProcessCounterStore(() => now);
    const expected = await run(
      (counts) => local.outcomesNow(counts),
      (at) => (now = at),
    );
    // The sequence exercises refusals at both positions and a refused cost, or it proves little.
    const refused = (outcome: HitOutcome) => outcome[0] === 0;
    expect(expected.flat().filter(refused).length).toBeGreaterThan(5);
    expect(expected.some((step) => step.length === 1 && refused(step[0]))).toBe(true);
    expect(expected.some((step) => step.length === 2 && refused(step[1]))).toBe(true);
    if (!redis) return;

    const prefix = `parity-${randomUUID()}:`;
    const shared = new RedisCounterStore(redis, prefix, () => now);
    try {
      const actual = await run(
        (counts) => shared.outcomes(counts),
        (at) => (now = at),
      );
      expect(actual).toEqual(expected);
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  });

  it('keep a Redis counter only while it can still count (the window after its last hit)', async () => {
    if (!redis) return;
    const prefix = `parity-${randomUUID()}:`;
    const sut = new RedisCounterStore(redis, prefix, () => Date.now());
    await sut.countAll([hit('ttl', 5)]);
    const ttl = await redis.pttl(`${prefix}ttl`);
    expect(ttl).toBeGreaterThan(WINDOW);
    expect(ttl).toBeLessThanOrEqual(2 * WINDOW);
    await redis.del(`${prefix}ttl`);
  });
});
