import { DynamicModule, Module, Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AdminModule } from './admin/admin.module';
import { AnalysisModule } from './analysis/analysis.module';
import { AppGuard } from './app.guard';
import { AuthModule } from './auth/auth.module';
import { CacheModule } from './cache/cache.module';
import { CommonModule } from './common/common.module';
import { buildLoggerOptions, createRootLogger, ROOT_LOGGER } from './common/logging/logger-options';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { AppConfigModule } from './config/config.module';
import { AppConfig } from './config/config.types';
import { RawEnv } from './config/env-reader';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { IpModule } from './ip/ip.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { WebhooksModule } from './webhooks/webhooks.module';

export interface AppModuleOptions {
  /** Where JSON log lines go; stdout when absent. Tests capture them here. */
  logStream?: DestinationStream;
  /** Extra modules mounted beside the application's own (the e2e suite's probe routes). */
  extraModules?: Type[];
}

@Module({})
export class AppModule {
  static forRoot(env: RawEnv, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        LoggerModule.forRootAsync({
          providers: [
            {
              provide: ROOT_LOGGER,
              inject: [ConfigService],
              useFactory: (config: ConfigService<AppConfig, true>) =>
                createRootLogger(config.get('app', { infer: true }), options.logStream),
            },
          ],
          inject: [ROOT_LOGGER],
          useFactory: buildLoggerOptions,
        }),
        CommonModule,
        MetricsModule,
        RedisModule,
        CacheModule,
        DatabaseModule,
        RateLimitModule,
        HealthModule,
        AuthModule,
        IdempotencyModule,
        AdminModule,
        AnalysisModule,
        IpModule,
        WebhooksModule,
        ...(options.extraModules ?? []),
      ],
      // One global guard runs the three in their order (see AppGuard).
      providers: [{ provide: APP_GUARD, useClass: AppGuard }],
    };
  }
}
