import { ExecutionContext, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerModule, ThrottlerOptions } from '@nestjs/throttler';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { AppConfig } from '../../config/config.types';
import { RedisService } from '../../redis/redis.service';
import { RATE_LIMIT_SCOPE_KEY, RateLimitScope } from '../decorators/rate-limit.decorator';
import { ResilientThrottlerStorage } from './resilient-throttler.storage';

const MINUTE_MS = 60_000;

function scopeOf(context: ExecutionContext): RateLimitScope | undefined {
  return (
    Reflect.getMetadata(RATE_LIMIT_SCOPE_KEY, context.getHandler()) ??
    Reflect.getMetadata(RATE_LIMIT_SCOPE_KEY, context.getClass())
  );
}

/** A throttler that only counts routes marked `@RateLimit(scope)`. */
function scoped(name: RateLimitScope, limit: number): ThrottlerOptions {
  return { name, ttl: MINUTE_MS, limit, skipIf: (context) => scopeOf(context) !== name };
}

/**
 * Rate limits (CONTRACT §1, §6): `default` per client IP on every /v1 route, and the named scopes.
 * Counters live in Redis when REDIS_URL is set, so every replica shares them.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
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
            redis.client ? new RedisThrottlerStorage(redis.client) : undefined,
            config.get('redis.keyPrefix', { infer: true }),
          ),
        };
      },
    }),
  ],
  exports: [ThrottlerModule],
})
export class RateLimitModule {}
