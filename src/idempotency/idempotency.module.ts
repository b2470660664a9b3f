import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/config.types';
import { RedisModule } from '../redis/redis.module';
import { RedisService } from '../redis/redis.service';
import { DatabaseIdempotencyStore } from './database-idempotency.store';
import { IDEMPOTENCY_STORE, IdempotencyStore } from './idempotency-store';
import { IdempotencyService } from './idempotency.service';
import { IdempotentRoutes } from './idempotent-routes';
import { RedisIdempotencyStore } from './redis-idempotency.store';
import { ResponseSeal } from './response-seal';

/**
 * Idempotency keys (docs/api.md, Idempotency keys). Rooms mark routes with `@Idempotent()` and need not import this
 * module; the app imports it once. The store is Redis when REDIS_URL is set, the `idempotency_keys`
 * table otherwise; only the chosen one is built.
 */
@Module({
  imports: [DiscoveryModule, RedisModule],
  providers: [
    IdempotencyService,
    IdempotentRoutes,
    {
      provide: ResponseSeal,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const { jwtSecret, jwtSecretPrevious } = config.get('auth', { infer: true });
        return new ResponseSeal(jwtSecretPrevious ? [jwtSecret, jwtSecretPrevious] : [jwtSecret]);
      },
    },
    {
      provide: IDEMPOTENCY_STORE,
      inject: [RedisService, DataSource],
      useFactory: (redis: RedisService, dataSource: DataSource): IdempotencyStore => {
        const store = redis.client
          ? new RedisIdempotencyStore(redis.client, (userId, key) => redis.key('idempotency', userId, key))
          : new DatabaseIdempotencyStore(dataSource);
        new Logger(IdempotencyModule.name).log({ msg: 'idempotency store ready', store: store.kind });
        return store;
      },
    },
  ],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
