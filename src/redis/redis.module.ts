import { Global, Module } from '@nestjs/common';
import { RedisService } from './redis.service';

/** The process's Redis connection, available everywhere; `RedisService.client` is undefined without `REDIS_URL`. */
@Global()
@Module({
  providers: [RedisService],
  exports: [RedisService],
})
export class RedisModule {}
