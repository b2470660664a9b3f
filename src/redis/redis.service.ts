import { Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import KeyvRedis from '@keyv/redis';
import Redis from 'ioredis';
import type { AppConfig } from '../config/config.types';
import { MetricsService } from '../metrics/metrics.service';
import {
  closeIoredis,
  closeKeyvRedisStore,
  createKeyvRedisStore,
  monitorConnection,
  safeRedisOptions,
  withTimeout,
} from './redis-connection';

export type RedisHealth = 'up' | 'down' | 'disabled';

const PING_TIMEOUT_MS = 500;

/**
 * Owns the process's shared ioredis connection (undefined when `REDIS_URL` is unset) and is the one
 * place that knows how to connect to Redis safely: every client made here fails fast while Redis
 * is down and reconnects forever, so callers can fall back to in-process behaviour and resume when
 * it returns.
 */
@Injectable()
export class RedisService implements OnModuleDestroy {
  private readonly logger = new Logger(RedisService.name);
  private readonly url: string | undefined;
  private readonly keyPrefix: string;

  readonly client: Redis | undefined;

  constructor(
    config: ConfigService<AppConfig, true>,
    // Optional so the service can be built alone (unit specs, child processes).
    @Optional() private readonly metrics?: MetricsService,
  ) {
    const settings = config.get('redis', { infer: true });
    this.url = settings.url;
    this.keyPrefix = settings.keyPrefix;
    if (this.url) {
      this.client = new Redis(this.url, safeRedisOptions('argus'));
      this.monitor(this.client, 'argus');
    }
  }

  /** True when Redis is configured (whether or not it is reachable right now). */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** True while the shared connection is ready to take commands. */
  get available(): boolean {
    return this.client?.status === 'ready';
  }

  /** A key under this deployment's prefix: `key('lock', 'abc')` → `argus:lock:abc`. */
  key(...parts: string[]): string {
    return this.keyPrefix + parts.join(':');
  }

  /** For the health check: answers within about half a second whatever state Redis is in. */
  async ping(): Promise<RedisHealth> {
    if (!this.client) return 'disabled';
    if (!this.available) return 'down';
    try {
      await withTimeout(this.client.ping(), PING_TIMEOUT_MS);
      return 'up';
    } catch {
      return 'down';
    }
  }

  /**
   * A dedicated ioredis connection with the same fail-fast options, for consumers that must not
   * share the main one (e.g. the throttler storage). The caller owns it and must `quit()` it.
   */
  createClient(connectionName = 'argus-secondary'): Redis {
    const client = new Redis(this.requireUrl(), safeRedisOptions(connectionName));
    this.monitor(client, connectionName);
    return client;
  }

  /**
   * A connection for the job queue (BullMQ), which needs the opposite of the fail-fast options:
   * commands wait for Redis to come back (`maxRetriesPerRequest: null`, offline queue on) instead
   * of failing, because BullMQ's workers block on Redis by design. It still reconnects forever.
   * The caller owns it and must `quit()` it.
   */
  createQueueClient(connectionName: string): Redis {
    const client = new Redis(this.requireUrl(), {
      ...safeRedisOptions(connectionName),
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      enableAutoPipelining: false,
    });
    this.monitor(client, connectionName);
    return client;
  }

  /**
   * A `@keyv/redis` store (node-redis underneath) with the same fail-fast behaviour, keys written as
   * `<namespace>:<key>`. The caller owns it and closes it with `closeKeyvStore()`.
   */
  createKeyvStore(namespace: string): KeyvRedis<unknown> {
    return createKeyvRedisStore(this.requireUrl(), namespace);
  }

  closeKeyvStore(store: KeyvRedis<unknown>): Promise<void> {
    return closeKeyvRedisStore(store);
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.client) return;
    await closeIoredis(this.client);
  }

  /** Logs the connection's transitions and exports `argus_redis_connection_up` until it is closed. */
  private monitor(client: Redis, connectionName: string): void {
    monitorConnection(client, this.logger, connectionName);
    if (!this.metrics) return;
    this.metrics.watchRedisConnection(connectionName, () => client.status === 'ready');
    // `end`: closed for good (quit, disconnect); a lost connection that retries does not emit it.
    client.once('end', () => this.metrics?.unwatchRedisConnection(connectionName));
  }

  private requireUrl(): string {
    if (!this.url) throw new Error('Redis is not configured (REDIS_URL is unset)');
    return this.url;
  }
}
