import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HealthIndicatorResult } from '@nestjs/terminus';
import { AppConfig } from '../config/config.types';
import { RedisService } from '../redis/redis.service';

const DAY_MS = 86_400_000;

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
    const now = Date.now();
    const keys = Object.fromEntries(
      providers.map(([provider, date]) => {
        const daysLeft = Math.floor((date.getTime() - now) / DAY_MS);
        const state = daysLeft < 0 ? 'expired' : daysLeft <= warnDays ? 'expiring' : 'ok';
        return [provider, { expiresAt: date.toISOString(), daysLeft, state }];
      }),
    );
    return { apiKeys: { status: 'up', ...keys } };
  }
}
