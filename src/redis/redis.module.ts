import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisService } from './redis.service';

/** The process's Redis connection; `RedisService.client` is undefined without `REDIS_URL`. */
@Module({
  imports: [MetricsModule],
  providers: [RedisService],
  exports: [RedisService],
})
export class RedisModule {}
