import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/config.types';
import { MetricsModule } from '../metrics/metrics.module';
import { DatabasePoolMetrics } from './database-pool.metrics';
import { buildDataSourceOptions } from './database-options';
import { openDataSource } from './migrations-runner';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        ...buildDataSourceOptions(config.get('database', { infer: true })),
        autoLoadEntities: true,
        // Start-up waits for the database a little (rolling deploys), then fails loudly.
        retryAttempts: 3,
        retryDelay: 1000,
      }),
      dataSourceFactory: (options) => openDataSource(options!),
    }),
    MetricsModule,
  ],
  providers: [DatabasePoolMetrics],
})
export class DatabaseModule {}
