import { Global, Module } from '@nestjs/common';
import { RedisModule } from '../redis/redis.module';
import { CacheService } from './cache.service';

/**
 * The application cache, available everywhere. Needs `MetricsService` from the global metrics
 * module; brings its Redis connection through `RedisModule`.
 */
@Global()
@Module({
  imports: [RedisModule],
  providers: [CacheService],
  exports: [CacheService],
})
export class CacheModule {}
