import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as Sentry from '@sentry/node';
import type Redis from 'ioredis';
import { keyExpiryStatus, KeyExpiryStatus } from '../config/api-key-expiry';
import { AppConfig } from '../config/config.types';
import { MetricsService } from '../metrics/metrics.service';
import { withTimeout } from '../redis/redis-connection';
import { RedisService } from '../redis/redis.service';

export const EXPIRY_CHECK_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
const REDIS_TIMEOUT_MS = 500;
const REDIS_CONNECT_WAIT_MS = 2000;

/**
 * Provider API keys with a known expiry (`<PROVIDER>_API_KEY_EXPIRES_AT`), checked at start and
 * hourly: the `argus_api_key_expiry_timestamp_seconds` gauge is set, and from
 * `API_KEY_EXPIRY_WARN_DAYS` before expiry each check logs a warning while a Sentry message
 * (level warning; error once expired) goes out once per provider and UTC day for the whole
 * deployment (a Redis `SET NX` with a day's expiry; per process while Redis is unavailable).
 */
@Injectable()
export class ApiKeyExpiryMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ApiKeyExpiryMonitor.name);
  private readonly alertedOn = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly metrics: MetricsService,
    private readonly redis: RedisService,
  ) {}

  onApplicationBootstrap(): void {
    if (Object.keys(this.config.get('apiKeys.expiresAt', { infer: true })).length === 0) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), EXPIRY_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of checks; never throws (it runs from a timer). */
  async check(now: Date = new Date()): Promise<KeyExpiryStatus[]> {
    const { expiresAt, warnDays } = this.config.get('apiKeys', { infer: true });
    const statuses = Object.entries(expiresAt).map(([provider, date]) =>
      keyExpiryStatus(provider, date, warnDays, now),
    );
    for (const status of statuses) this.metrics.setApiKeyExpiry(status.provider, status.expiresAt);
    for (const status of statuses) {
      if (status.state === 'ok') continue;
      try {
        await this.warn(status, now);
      } catch (error) {
        this.logger.error({ msg: 'api key expiry alert failed', provider: status.provider, err: error });
      }
    }
    return statuses;
  }

  private async warn(status: KeyExpiryStatus, now: Date): Promise<void> {
    const { provider, expiresAt, daysLeft, state } = status;
    const message =
      state === 'expired'
        ? `The ${provider} API key expired on ${expiresAt.toISOString()}; rotate it now.`
        : `The ${provider} API key expires on ${expiresAt.toISOString()} (in ${daysLeft} days); rotate it.`;
    this.logger.warn({ msg: 'api key expiry', provider, expiresAt: expiresAt.toISOString(), daysLeft, state });
    if (!(await this.claimDailyAlert(provider, now))) return;
    Sentry.captureMessage(message, { level: state === 'expired' ? 'error' : 'warning', tags: { provider } });
  }

  /** True for the first caller of the UTC day for this provider, across replicas when Redis is there. */
  private async claimDailyAlert(provider: string, now: Date): Promise<boolean> {
    const day = now.toISOString().slice(0, 10);
    const client = this.redis.client;
    if (client && (await this.redisReady(client))) {
      try {
        const key = this.redis.key('alert', 'api-key-expiry', provider, day);
        const set = await withTimeout(client.set(key, '1', 'PX', DAY_MS, 'NX'), REDIS_TIMEOUT_MS);
        this.alertedOn.set(provider, day);
        return set === 'OK';
      } catch (error) {
        this.logger.warn({ msg: 'alert de-duplication unavailable; deciding per process', err: error });
      }
    }
    if (this.alertedOn.get(provider) === day) return false;
    this.alertedOn.set(provider, day);
    return true;
  }

  /** Waits briefly for a connection still being made (the first check runs right at start-up). */
  private redisReady(client: Redis): Promise<boolean> {
    if (client.status === 'ready') return Promise.resolve(true);
    if (!['wait', 'connecting', 'connect'].includes(client.status)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        client.off('ready', onReady);
        resolve(false);
      }, REDIS_CONNECT_WAIT_MS);
      client.once('ready', onReady);
    });
  }
}
