import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/config.types';
import { RedisModule } from '../redis/redis.module';
import { RedisService } from '../redis/redis.service';
import { COUNTER_STORE, CounterStore } from './counter-store';
import { InProcessCounterStore } from './in-process-counter.store';
import { IpLookupLimiter } from './ip-lookup-limiter.service';
import { RateLimiter, RATE_LIMITS } from './rate-limiter.service';
import { rateLimitDefinitions } from './rate-limits';
import { RedisCounterStore } from './redis-counter.store';
import { ResilientCounterStore } from './resilient-counter.store';

/**
 * Rate limits (docs/api.md, Conventions, §6), end to end: the limits, key formats and header names
 * (rate-limits.ts), the sliding window counters (Redis when REDIS_URL is set, so every replica
 * shares them; in process otherwise and while Redis is down), and the RateLimiter the AppGuard
 * and the bulk IP lookup count with.
 */
@Module({
  imports: [RedisModule],
  providers: [
    {
      provide: RATE_LIMITS,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        rateLimitDefinitions(config.get('limits', { infer: true })),
    },
    {
      provide: COUNTER_STORE,
      inject: [ConfigService, RedisService],
      useFactory: (config: ConfigService<AppConfig, true>, redis: RedisService): CounterStore =>
        redis.client
          ? new ResilientCounterStore(
              new RedisCounterStore(redis.client, config.get('redis.keyPrefix', { infer: true })),
            )
          : new InProcessCounterStore(),
    },
    RateLimiter,
    IpLookupLimiter,
  ],
  exports: [RateLimiter, IpLookupLimiter],
})
export class RateLimitModule {}
