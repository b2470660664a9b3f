import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule, ThrottlerOptions } from '@nestjs/throttler';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { AppConfig } from '../config/config.types';
import { RedisModule } from '../redis/redis.module';
import { RedisService } from '../redis/redis.service';
import { IpLookupLimiter } from './ip-lookup-limiter.service';
import { IpThrottlerGuard, UserThrottlerGuard } from './rate-limit.guards';
import { RateLimitScope } from './rate-limit.decorator';
import { ResilientThrottlerStorage } from './resilient-throttler.storage';

const MINUTE_MS = 60_000;

/** A throttler that counts only routes marked `@RateLimit(name)` (the guards read the scope). */
function scoped(name: RateLimitScope, limit: number): ThrottlerOptions {
  return { name, ttl: MINUTE_MS, limit };
}

/**
 * Rate limits (CONTRACT §1, §6): `default` per client IP on every /v1 route, and the named scopes.
 * Counters live in Redis when REDIS_URL is set, so every replica shares them.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RedisModule],
      inject: [ConfigService, RedisService],
      useFactory: (config: ConfigService<AppConfig, true>, redis: RedisService) => {
        const limits = config.get('limits', { infer: true });
        return {
          throttlers: [
            { name: 'default', ttl: MINUTE_MS, limit: limits.ratePerMinute },
            scoped('auth', limits.authPerMinute),
            scoped('analysis', limits.analysisPerMinute),
            scoped('ip', limits.ipPerMinute),
          ],
          storage: new ResilientThrottlerStorage(
            redis.client
              ? new RedisThrottlerStorage(redis.client, config.get('redis.keyPrefix', { infer: true }))
              : undefined,
          ),
        };
      },
    }),
  ],
  providers: [IpThrottlerGuard, UserThrottlerGuard, IpLookupLimiter],
  exports: [IpThrottlerGuard, UserThrottlerGuard, IpLookupLimiter],
})
export class RateLimitModule {}
