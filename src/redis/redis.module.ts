import { Module } from '@nestjs/common';
import { RedisService } from './redis.service';

/** The process's Redis connection; `RedisService.client` is undefined without `REDIS_URL`. */
@Module({
  providers: [RedisService],
  exports: [RedisService],
})
export class RedisModule {}
