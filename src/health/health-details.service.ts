import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HealthIndicatorResult } from '@nestjs/terminus';
import { keyExpiryStatus } from '../config/api-key-expiry';
import { AppConfig } from '../config/config.types';
import { RedisService } from '../redis/redis.service';

/**
 * What readiness reports without failing on it: Redis (the app degrades to in-process without it)
 * and the expiry of provider API keys.
 */
@Injectable()
export class HealthDetailsService {
  constructor(
    private readonly redis: RedisService,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  async collect(): Promise<HealthIndicatorResult> {
    return { redis: await this.redisStatus(), ...this.apiKeys() };
  }

  private async redisStatus(): Promise<HealthIndicatorResult[string]> {
    const state = await this.redis.ping();
    if (state === 'disabled') return { status: 'up', mode: 'in-process' };
    return state === 'up' ? { status: 'up' } : { status: 'down', impact: 'degraded to in-process cache and limits' };
  }

  private apiKeys(): HealthIndicatorResult {
    const { expiresAt, warnDays } = this.config.get('apiKeys', { infer: true });
    const providers = Object.entries(expiresAt);
    if (providers.length === 0) return {};
    const now = new Date();
    const keys = Object.fromEntries(
      providers.map(([provider, date]) => {
        const { daysLeft, state } = keyExpiryStatus(provider, date, warnDays, now);
        return [provider, { expiresAt: date.toISOString(), daysLeft, state }];
      }),
    );
    return { apiKeys: { status: 'up', ...keys } };
  }
}
