import type Redis from 'ioredis';
import type { Clock, CounterStore, CountRequest } from './counter-store';
import { HitOutcome, RateLimitDecision, toDecision } from './sliding-window';

/** The ioredis command the script is registered under. */
const COUNT_ALL_COMMAND = 'argusRateLimitCountAll';

/**
 * `countHit` and `retryAfterMs` of sliding-window.ts, line for line, for each counter in turn until
 * one refuses. KEYS: one hash per counter (fields w, c, p: window number, its count, the previous
 * window's count). ARGV: the time, then window length, limit and cost per counter. The time is an
 * argument, so a replica's answer does not depend on which Redis clock it met, and both stores
 * answer alike (counter-stores.parity.spec.ts runs them side by side).
 */
export const COUNT_ALL_LUA = `
local now = tonumber(ARGV[1])
local outcomes = {}
for i = 1, #KEYS do
  local windowMs = tonumber(ARGV[3 * i - 1])
  local limit = tonumber(ARGV[3 * i])
  local cost = tonumber(ARGV[3 * i + 1])
  local window = math.floor(now / windowMs)
  local left = windowMs - (now - window * windowMs)
  local state = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
  local stored = tonumber(state[1])
  local current, previous = 0, 0
  if stored == window then
    current = tonumber(state[2])
    previous = tonumber(state[3])
  elseif stored == window - 1 then
    previous = tonumber(state[2])
  end
  if previous * left + (current + cost) * windowMs <= limit * windowMs then
    current = current + cost
    redis.call('HSET', KEYS[i], 'w', window, 'c', current, 'p', previous)
    redis.call('PEXPIRE', KEYS[i], left + windowMs)
    outcomes[i] = { 1, math.floor((limit * windowMs - previous * left - current * windowMs) / windowMs), left }
  else
    local wait
    if cost > limit then
      wait = left + windowMs
    elseif current + cost <= limit then
      wait = math.ceil((left * previous - (limit - current - cost) * windowMs) / previous)
    else
      wait = left + math.ceil((windowMs * (current + cost - limit)) / current)
    end
    outcomes[i] = { 0, 0, wait }
    return outcomes
  end
end
return outcomes
`;

type WithCountAll = Redis & {
  [COUNT_ALL_COMMAND](keyCount: number, ...keysThenArgs: Array<string | number>): Promise<unknown>;
};

/**
 * Counters in Redis, shared by every replica: all of a request's counters in one EVALSHA (ioredis's
 * `defineCommand` sends the script by SHA and falls back to EVAL by itself when Redis does not know
 * it, after a restart or SCRIPT FLUSH). A counter expires with the window after its last hit.
 * Counters of one request may hash to different slots: this needs a single Redis, not a Cluster —
 * which is what REDIS_URL connects to.
 */
export class RedisCounterStore implements CounterStore {
  private readonly client: WithCountAll;

  /** `keyPrefix` keeps deployments (and test runs) that share one Redis apart. */
  constructor(
    redis: Redis,
    private readonly keyPrefix = '',
    private readonly now: Clock = Date.now,
  ) {
    if (!(COUNT_ALL_COMMAND in redis)) {
      redis.defineCommand(COUNT_ALL_COMMAND, { lua: COUNT_ALL_LUA });
    }
    this.client = redis as WithCountAll;
  }

  /** One EVALSHA for all of `counts`; a plain promise chain, as this runs on every request. */
  countAll(counts: readonly CountRequest[]): Promise<RateLimitDecision[]> {
    return this.outcomes(counts).then((outcomes) => outcomes.map(toDecision));
  }

  /** What each hit got, in milliseconds (the parity spec compares them with the in-process store's). */
  outcomes(counts: readonly CountRequest[]): Promise<HitOutcome[]> {
    if (counts.length === 0) return Promise.resolve([]);
    const keys: string[] = [];
    const args: Array<string | number> = [this.now()];
    for (const { key, windowMs, limit, cost } of counts) {
      keys.push(this.keyPrefix + key);
      args.push(windowMs, limit, cost);
    }
    return this.client[COUNT_ALL_COMMAND](keys.length, ...keys, ...args).then((reply) => toOutcomes(reply, counts));
  }
}

function toOutcomes(reply: unknown, counts: readonly CountRequest[]): HitOutcome[] {
  if (!Array.isArray(reply) || reply.length < 1 || reply.length > counts.length || !reply.every(isOutcome)) {
    throw new TypeError('Unexpected reply from the rate-limit script');
  }
  return reply;
}

function isOutcome(value: unknown): value is HitOutcome {
  return Array.isArray(value) && value.length === 3 && value.every((item) => typeof item === 'number');
}
