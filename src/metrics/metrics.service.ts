import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SERVICE_VERSION } from '../common/build-info';

export type CacheResult = 'hit' | 'miss';
export type UpstreamOutcome = 'success' | 'error' | 'timeout' | 'rejected' | 'circuit_open';
/** `retry`: an attempt failed and another is scheduled; `failed`: the delivery gave up. */
export type WebhookDeliveryOutcome = 'success' | 'retry' | 'failed';
/** How a job's run ended: terminal (`succeeded`, `failed`) or handed back to the queue at shutdown (`released`). */
export type JobOutcome = 'succeeded' | 'failed' | 'released';

/** What a PostgreSQL connection pool reports (node-postgres `Pool` counters and its configured size). */
export interface DatabasePoolStats {
  /** Open connections, in use or idle. */
  total: number;
  idle: number;
  /** Queries waiting for a connection to free up. */
  waiting: number;
  /** DATABASE_POOL_MAX. */
  max: number;
}

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  /** Age of the oldest unfinished job, 0 when there is none. */
  oldestAgeSeconds: number;
}

/**
 * The one Prometheus registry of the process and the typed API other modules record through.
 * Metric names are fixed by docs/operations.md; nothing else in the code base names a metric.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route template',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [this.registry],
  });

  private readonly cacheRequests = new Counter({
    name: 'argus_cache_requests_total',
    help: 'Cache look-ups by cache name and result',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  private readonly upstreamRequests = new Counter({
    name: 'argus_upstream_requests_total',
    help: 'Calls to upstream providers by outcome',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly upstreamDuration = new Histogram({
    name: 'argus_upstream_request_duration_seconds',
    help: 'Duration of upstream provider calls (all attempts of one logical call)',
    labelNames: ['provider'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });

  private readonly aiTokens = new Counter({
    name: 'argus_ai_tokens_total',
    help: 'AI tokens used by model and kind',
    labelNames: ['model', 'kind'] as const,
    registers: [this.registry],
  });

  private readonly aiCost = new Counter({
    name: 'argus_ai_cost_usd_total',
    help: 'Estimated AI spend in US dollars by model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  private readonly apiKeyExpiry = new Gauge({
    name: 'argus_api_key_expiry_timestamp_seconds',
    help: 'Expiry of each provider API key with a known expiry (unix seconds)',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  private readonly providerQuotaRemaining = new Gauge({
    name: 'argus_upstream_quota_remaining',
    help: 'Requests left in the provider quota window, as last reported by the provider',
    labelNames: ['provider', 'key'] as const,
    registers: [this.registry],
  });

  private readonly webhookDeliveries = new Counter({
    name: 'argus_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (retry: failed, another attempt scheduled; failed: given up)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly jobs = new Counter({
    name: 'argus_jobs_total',
    help: 'Job runs by queue and outcome (released: handed back to the queue at shutdown)',
    labelNames: ['queue', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly jobDuration = new Histogram({
    name: 'argus_job_duration_seconds',
    help: 'Time from a job being accepted to it succeeding or failing',
    labelNames: ['queue'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });

  private readonly queueDepth = new Gauge({
    name: 'argus_queue_depth',
    help: 'Unfinished jobs by queue and state (from the jobs table, the same on every replica)',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  private readonly queueOldestAge = new Gauge({
    name: 'argus_queue_oldest_job_age_seconds',
    help: 'Age of the oldest unfinished job by queue',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  private readonly ipFeedEntries = new Gauge({
    name: 'argus_ip_feed_entries',
    help: 'Networks in each IP feed as last swapped in (0 until a copy is loaded)',
    labelNames: ['feed'] as const,
    registers: [this.registry],
  });

  /** When each IP feed was last confirmed current (a 200 or a 304), epoch ms. */
  private readonly ipFeedCheckedAt = new Map<string, number>();

  private readonly ipFeedAge = new Gauge({
    name: 'argus_ip_feed_age_seconds',
    help: 'Seconds since each IP feed was last fetched or confirmed unchanged (absent: never)',
    labelNames: ['feed'] as const,
    registers: [this.registry],
    collect: () => {
      const now = Date.now();
      for (const [feed, checkedAt] of this.ipFeedCheckedAt) {
        this.ipFeedAge.set({ feed }, Math.max(0, Math.round((now - checkedAt) / 1000)));
      }
    },
  });

  /** Each watched Redis connection (by connection name) and how to tell whether it is ready. */
  private readonly redisConnections = new Map<string, () => boolean>();

  private readonly redisConnectionUp = new Gauge({
    name: 'argus_redis_connection_up',
    help: 'Whether each Redis connection of this process is ready for commands (1) or not (0); none without REDIS_URL',
    labelNames: ['connection'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [connection, isReady] of this.redisConnections) {
        this.redisConnectionUp.set({ connection }, isReady() ? 1 : 0);
      }
    },
  });

  private databasePoolWatched = false;

  constructor() {
    // Every outcome is exported from the start, so a failure ratio has a denominator before the first failure.
    for (const outcome of ['success', 'retry', 'failed'] as const) this.webhookDeliveries.inc({ outcome }, 0);
    collectDefaultMetrics({ register: this.registry });
    // Value 1, labelled with the running version: joins any series to the build that produced it.
    new Gauge({
      name: 'argus_build_info',
      help: 'The running build (value 1)',
      labelNames: ['version', 'node_version'] as const,
      registers: [this.registry],
    }).set({ version: SERVICE_VERSION, node_version: process.version }, 1);
  }

  recordHttp(method: string, route: string, statusCode: number, seconds: number): void {
    const labels = { method, route, status_code: String(statusCode) };
    this.httpDuration.observe(labels, seconds);
    this.httpRequests.inc(labels);
  }

  recordCache(cache: string, result: CacheResult): void {
    this.cacheRequests.inc({ cache, result });
  }

  recordUpstream(provider: string, outcome: UpstreamOutcome, seconds?: number): void {
    this.upstreamRequests.inc({ provider, outcome });
    if (seconds !== undefined) this.upstreamDuration.observe({ provider }, seconds);
  }

  recordAiUsage(model: string, inputTokens: number, outputTokens: number, costUsd: number): void {
    this.aiTokens.inc({ model, kind: 'input' }, inputTokens);
    this.aiTokens.inc({ model, kind: 'output' }, outputTokens);
    this.aiCost.inc({ model }, costUsd);
  }

  setApiKeyExpiry(provider: string, expiresAt: Date): void {
    this.apiKeyExpiry.set({ provider }, Math.floor(expiresAt.getTime() / 1000));
  }

  setProviderQuotaRemaining(provider: string, key: string, remaining: number): void {
    this.providerQuotaRemaining.set({ provider, key }, remaining);
  }

  recordWebhookDelivery(outcome: WebhookDeliveryOutcome): void {
    this.webhookDeliveries.inc({ outcome });
  }

  /** A job run ended; `seconds` (accepted → terminal) only for terminal outcomes. */
  recordJob(queue: string, outcome: JobOutcome, seconds?: number): void {
    this.jobs.inc({ queue, outcome });
    if (seconds !== undefined) this.jobDuration.observe({ queue }, seconds);
  }

  /** Exports every outcome and state of `queue` from zero, so ratios have a denominator at once. */
  registerQueue(queue: string): void {
    for (const outcome of ['succeeded', 'failed', 'released'] as const) this.jobs.inc({ queue, outcome }, 0);
    this.setQueueDepth(queue, { waiting: 0, active: 0, delayed: 0, oldestAgeSeconds: 0 });
  }

  setQueueDepth(queue: string, depth: QueueDepth): void {
    this.queueDepth.set({ queue, state: 'waiting' }, depth.waiting);
    this.queueDepth.set({ queue, state: 'active' }, depth.active);
    this.queueDepth.set({ queue, state: 'delayed' }, depth.delayed);
    this.queueOldestAge.set({ queue }, depth.oldestAgeSeconds);
  }

  /** An IP feed's state: its entries now, and when it was last confirmed current (if ever). */
  setIpFeed(feed: string, entries: number, checkedAt: number | undefined): void {
    this.ipFeedEntries.set({ feed }, entries);
    if (checkedAt !== undefined) this.ipFeedCheckedAt.set(feed, checkedAt);
  }

  /**
   * Exports the PostgreSQL pool's state, read at each scrape (docs/operations.md, "Connection pool
   * sizing"). Only called with PostgreSQL: the embedded database has no pool, so no series.
   */
  watchDatabasePool(read: () => DatabasePoolStats): void {
    if (this.databasePoolWatched) return;
    this.databasePoolWatched = true;
    const gauges: [string, string, (stats: DatabasePoolStats) => number][] = [
      ['argus_db_pool_connections', 'Open PostgreSQL connections of this process, in use or idle', (s) => s.total],
      ['argus_db_pool_idle_connections', 'Idle PostgreSQL connections of this process', (s) => s.idle],
      ['argus_db_pool_waiting', 'Queries of this process waiting for a free PostgreSQL connection', (s) => s.waiting],
      ['argus_db_pool_max_connections', 'The pool size (DATABASE_POOL_MAX)', (s) => s.max],
    ];
    for (const [name, help, pick] of gauges) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(pick(read()));
        },
      });
    }
  }

  /** Exports `argus_redis_connection_up{connection}` for a Redis connection until `unwatchRedisConnection`. */
  watchRedisConnection(connection: string, isReady: () => boolean): void {
    this.redisConnections.set(connection, isReady);
  }

  /** A connection closed on purpose: its series goes away instead of reading 0 (down) forever. */
  unwatchRedisConnection(connection: string): void {
    this.redisConnections.delete(connection);
    this.redisConnectionUp.remove({ connection });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
