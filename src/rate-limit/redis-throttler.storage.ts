import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type Redis from 'ioredis';
import type { CounterStorage, CountRequest } from './counter-storage';

/** The ioredis command the counting script is registered under. */
const INCREMENT_ALL_COMMAND = 'throttlerIncrementAll';

type IncrementReply = [totalHits: number, timeToExpireMs: number, isBlocked: number, timeToBlockExpireMs: number];

type WithIncrementAll = Redis & {
  [INCREMENT_ALL_COMMAND](keyCount: number, ...keysThenArgs: Array<string | number>): Promise<unknown>;
};

/**
 * The package's script, unchanged, as a Lua function over its own `KEYS` and `ARGV`, run for each
 * counter in turn until one is blocked: a request refused by one limit is not counted by the next
 * (the order the guards count in), and the counters of one request cost one round trip. Different
 * counters' keys may hash to different slots: this needs a single Redis, not a Cluster — which is
 * what REDIS_URL connects to.
 */
function incrementAllScript(incrementScript: string): string {
  return [
    'local function increment(KEYS, ARGV)',
    incrementScript,
    'end',
    'local records = {}',
    'for i = 1, #KEYS / 2 do',
    '  local record = increment({ KEYS[2 * i - 1], KEYS[2 * i] }, { ARGV[4 * i - 3], ARGV[4 * i - 2], ARGV[4 * i - 1], ARGV[4 * i] })',
    '  records[i] = record',
    '  if record[3] == 1 then break end',
    'end',
    'return records',
  ].join('\n');
}

/**
 * @nest-lab/throttler-storage-redis's counters — same keys, same Lua script — run by SHA, several
 * per call. The package sends the whole script with EVAL on every increment: ~1 KB written per
 * throttler per request and hashed again by Redis. ioredis's `defineCommand` sends EVALSHA and
 * falls back to EVAL by itself when Redis does not know the script yet (after a restart or SCRIPT
 * FLUSH).
 */
export class RedisThrottlerStorage extends ThrottlerStorageRedisService implements CounterStorage {
  private readonly client: WithIncrementAll;

  /** `keyPrefix` keeps deployments (and test runs) that share one Redis apart. */
  constructor(
    redis: Redis,
    private readonly keyPrefix = '',
  ) {
    super(redis);
    redis.defineCommand(INCREMENT_ALL_COMMAND, { lua: incrementAllScript(this.scriptSrc) });
    this.client = redis as WithIncrementAll;
  }

  override increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    return this.incrementAll([{ key, ttl, limit, blockDuration, throttlerName }]).then((records) => records[0]);
  }

  /** One EVALSHA for all of `counts`; a plain promise chain, as this runs on every request. */
  incrementAll(counts: readonly CountRequest[]): Promise<ThrottlerStorageRecord[]> {
    if (counts.length === 0) return Promise.resolve([]);
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const { key, ttl, limit, blockDuration, throttlerName } of counts) {
      const counter = `{${this.keyPrefix}${key}:${throttlerName}}`;
      keys.push(`${counter}:hits`, `${counter}:blocked`);
      args.push(throttlerName, ttl, limit, blockDuration);
    }
    return this.client[INCREMENT_ALL_COMMAND](keys.length, ...keys, ...args).then((reply) => toRecords(reply, counts));
  }
}

function toRecords(reply: unknown, counts: readonly CountRequest[]): ThrottlerStorageRecord[] {
  if (!Array.isArray(reply) || reply.length < 1 || reply.length > counts.length || !reply.every(isIncrementReply)) {
    throw new TypeError('Unexpected reply from the rate-limit script');
  }
  return reply.map(([totalHits, timeToExpireMs, isBlocked, timeToBlockExpireMs]) => ({
    totalHits,
    timeToExpire: Math.ceil(timeToExpireMs / 1000),
    isBlocked: isBlocked === 1,
    timeToBlockExpire: Math.ceil(timeToBlockExpireMs / 1000),
  }));
}

function isIncrementReply(reply: unknown): reply is IncrementReply {
  return Array.isArray(reply) && reply.length === 4 && reply.every((value) => typeof value === 'number');
}
