import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisModule } from '../redis/redis.module';
import { CacheService } from './cache.service';

/** The application cache (near cache + Redis or in-process) and its single-flight locks. */
@Module({
  imports: [RedisModule, MetricsModule],
  providers: [CacheService],
  exports: [CacheService],
})
export class CacheModule {}
