import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import KeyvRedis from '@keyv/redis';
import type Redis from 'ioredis';
import { Keyv } from 'keyv';
import { setTimeout as sleep } from 'node:timers/promises';
import { MetricsService } from '../metrics/metrics.service';
import { closeIoredis } from '../redis/redis-connection';
import { RedisService } from '../redis/redis.service';
import {
  FOLLOWER_WAIT_MS,
  LOCK_TTL_MS,
  MEMORY_MAX_ENTRIES,
  NEAR_MAX_AGE_MS,
  NEAR_MAX_ENTRIES,
  POLL_INITIAL_MS,
  POLL_MAX_MS,
  REDIS_FAILURES_TO_BYPASS,
  REDIS_OPERATION_TIMEOUT_MS,
  REDIS_PROBE_AFTER_MS,
} from './cache.constants';
import { DistributedLock, LockLease } from './distributed-lock';
import { MemoryStore } from './memory-store';
import { NearCache } from './near-cache';
import { RedisGuard } from './redis-guard';

export interface SingleFlightResult<T> {
  value: T;
  /** False only for the call whose own `fn` produced the value (docs/api.md: "no upstream call was made for this request"). */
  cached: boolean;
}

interface FlightOutcome<T> {
  value: T;
  /** True when this flight ran `fn`; false when it found a result stored by another replica. */
  computed: boolean;
}

type FollowOutcome<T> = { status: 'value'; value: T } | { status: 'released' } | { status: 'deadline' };

/**
 * The application cache: Redis through Keyv/@keyv/redis when `REDIS_URL` is set (shared by every
 * replica), a bounded in-process MemoryStore otherwise. A Redis outage degrades every operation to the
 * in-process store and in-process single-flight, never to an error; shared behaviour resumes when
 * Redis answers again. Values must be JSON-serialisable; `undefined` means "not cached".
 *
 * With Redis, values read from it are also kept in a near cache in the process (a hot key costs no
 * round trip), coherent through a pub/sub channel: every write and delete announces its key there
 * and each replica drops its copy (see NearCache).
 */
@Injectable()
export class CacheService implements OnModuleDestroy {
  private readonly logger = new Logger(CacheService.name);
  private readonly memory = new MemoryStore(MEMORY_MAX_ENTRIES);
  private readonly sharedStore: KeyvRedis<unknown> | undefined;
  /** Undefined without Redis, and after shutdown so a straggling call cannot reopen the connection. */
  private shared: Keyv<unknown> | undefined;
  private readonly guard = new RedisGuard({
    operationTimeoutMs: REDIS_OPERATION_TIMEOUT_MS,
    failuresToBypass: REDIS_FAILURES_TO_BYPASS,
    probeAfterMs: REDIS_PROBE_AFTER_MS,
  });
  private readonly lock: DistributedLock;
  private readonly flights = new Map<string, Promise<FlightOutcome<unknown>>>();
  private readonly near = new NearCache(NEAR_MAX_ENTRIES, NEAR_MAX_AGE_MS);
  /** Where writes and deletes announce their keys to every replica's near cache. */
  private readonly invalidationChannel: string;
  private readonly subscriber: Redis | undefined;

  constructor(
    private readonly metrics: MetricsService,
    private readonly redis: RedisService,
  ) {
    this.invalidationChannel = redis.key('cache-invalidations');
    if (redis.enabled) {
      const namespace = redis.key('cache');
      this.sharedStore = redis.createKeyvStore(namespace);
      this.shared = new Keyv<unknown>({
        store: this.sharedStore,
        namespace,
        useKeyPrefix: false,
        throwOnErrors: true,
        // Plain JSON: values are JSON by contract, and @keyv/serialize's Buffer-reviving parser was
        // 1 % of a cached lookup's CPU.
        serialize: JSON.stringify,
        deserialize: JSON.parse,
      });
      this.subscriber = this.subscribeToInvalidations(redis.createClient('argus-cache-invalidations'));
    }
    this.lock = new DistributedLock(redis.client, this.guard, LOCK_TTL_MS);
  }

  /** The cached value, or undefined on a miss; counted as a hit or miss of `cacheName`. */
  get<T>(key: string, cacheName: string): Promise<T | undefined> {
    return this.read<T>(key).then((value) => {
      this.metrics.recordCache(cacheName, value === undefined ? 'miss' : 'hit');
      return value;
    });
  }

  /** Stores `value` for `ttlMs`; a TTL of zero or less stores nothing (caching disabled). */
  async set<T>(key: string, value: T, ttlMs: number): Promise<void> {
    if (!(ttlMs > 0)) return;
    const shared = this.shared;
    if (shared) {
      const written = await this.guard.run(() => shared.set(key, value, ttlMs));
      await this.invalidateNear(key, written.ok);
      if (written.ok) return;
    }
    this.memory.set(key, value, ttlMs);
  }

  async delete(key: string): Promise<void> {
    const shared = this.shared;
    if (shared) {
      const deleted = await this.guard.run(() => shared.delete(key));
      await this.invalidateNear(key, deleted.ok);
    }
    this.memory.delete(key);
  }

  /**
   * The cached value of `key`, or the result of `fn` — run once for all concurrent callers of the
   * same key: in this process they share one promise, across replicas one leader holds a Redis lock
   * while the others poll for its result. If the leader's `fn` rejects, every caller sharing it gets
   * the rejection and nothing is cached; replicas waiting on it take over with their own call.
   * `cached` is false only for the caller whose `fn` ran.
   */
  async singleFlight<T>(
    key: string,
    ttlMs: number,
    fn: () => Promise<T>,
    cacheName: string,
  ): Promise<SingleFlightResult<T>> {
    const hit = await this.get<T>(key, cacheName);
    if (hit !== undefined) return { value: hit, cached: true };

    const running = this.flights.get(key) as Promise<FlightOutcome<T>> | undefined;
    if (running) return { value: (await running).value, cached: true };

    const outcome = await this.startFlight(key, ttlMs, fn);
    return { value: outcome.value, cached: !outcome.computed };
  }

  async onModuleDestroy(): Promise<void> {
    this.shared = undefined;
    this.near.suspend();
    await Promise.all([
      this.sharedStore && this.redis.closeKeyvStore(this.sharedStore),
      this.subscriber && closeIoredis(this.subscriber),
    ]);
  }

  /** Not an async function: a near-cache hit, the common case, costs a single settled promise. */
  private read<T>(key: string): Promise<T | undefined> {
    const shared = this.shared;
    if (!shared) return Promise.resolve(this.memory.get<T>(key));
    const near = this.near.get<T>(key);
    return near !== undefined ? Promise.resolve(near) : this.readShared(shared, key);
  }

  private async readShared<T>(shared: Keyv<unknown>, key: string): Promise<T | undefined> {
    const generation = this.near.generation;
    const found = await this.guard.run(() => shared.getRaw<T>(key));
    if (found.ok) {
      if (found.value === undefined) return undefined;
      const { value, expires } = found.value;
      this.near.fill(key, value, expires ?? undefined, generation);
      return value;
    }
    return this.memory.get<T>(key);
  }

  /**
   * Drops the key from this replica's near cache and, once Redis has the change (`announce`), from
   * every other's. No retry when Redis is unreachable: every replica's subscription is down then,
   * which empties its near cache.
   */
  private async invalidateNear(key: string, announce: boolean): Promise<void> {
    this.near.invalidate(key);
    const client = this.redis.client;
    if (announce && client) await this.guard.run(() => client.publish(this.invalidationChannel, key));
  }

  /** The near cache is live exactly while this connection is subscribed to the channel. */
  private subscribeToInvalidations(subscriber: Redis): Redis {
    subscriber.on('message', (channel: string, key: string) => {
      if (channel === this.invalidationChannel) this.near.invalidate(key);
    });
    subscriber.on('close', () => this.near.suspend());
    subscriber.on('ready', () => {
      subscriber.subscribe(this.invalidationChannel).then(
        () => {
          if (subscriber.status === 'ready') this.near.resume();
        },
        () => this.near.suspend(),
      );
    });
    return subscriber;
  }

  private startFlight<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<FlightOutcome<T>> {
    const flight = this.fly(key, ttlMs, fn).finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    return flight;
  }

  private async fly<T>(key: string, ttlMs: number, fn: () => Promise<T>): Promise<FlightOutcome<T>> {
    const lockKey = this.redis.key('lock', key);
    const deadline = Date.now() + FOLLOWER_WAIT_MS;
    for (;;) {
      const attempt = await this.lock.tryAcquire(lockKey);
      if (attempt.status === 'acquired') return this.lead(key, ttlMs, fn, attempt.lease);
      if (attempt.status === 'unavailable') return this.lead(key, ttlMs, fn);

      const followed = await this.followLeader<T>(key, lockKey, deadline);
      if (followed.status === 'value') return { value: followed.value, computed: false };
      if (followed.status === 'deadline') {
        this.logger.warn({ msg: 'single-flight leader did not finish in time, computing locally', lockKey });
        return this.lead(key, ttlMs, fn);
      }
      // 'released': the leader crashed or failed without storing a result; try to take over.
    }
  }

  private async lead<T>(key: string, ttlMs: number, fn: () => Promise<T>, lease?: LockLease): Promise<FlightOutcome<T>> {
    try {
      // A replica may have stored the result between our miss and our lock.
      const existing = await this.read<T>(key);
      if (existing !== undefined) return { value: existing, computed: false };
      const value = await fn();
      // Store before releasing: a follower that sees the lock gone without a result takes over.
      await this.set(key, value, ttlMs);
      return { value, computed: true };
    } finally {
      await lease?.release();
    }
  }

  private async followLeader<T>(key: string, lockKey: string, deadline: number): Promise<FollowOutcome<T>> {
    for (let delay = POLL_INITIAL_MS; Date.now() < deadline; delay = Math.min(delay * 2, POLL_MAX_MS)) {
      await sleep(Math.min(delay, deadline - Date.now()));
      const value = await this.read<T>(key);
      if (value !== undefined) return { status: 'value', value };
      if (!(await this.lock.isHeld(lockKey))) return { status: 'released' };
    }
    return { status: 'deadline' };
  }
}
