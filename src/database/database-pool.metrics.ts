import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { MetricsService } from '../metrics/metrics.service';

/** The node-postgres `Pool` counters TypeORM's driver holds as `master`. */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max?: number };
}

/**
 * Exports the PostgreSQL pool's open, idle and waiting counts at each scrape, so pool exhaustion
 * (docs/operations.md, "Connection pool sizing") is visible before it becomes latency. Nothing with
 * the embedded database, which has no pool.
 */
@Injectable()
export class DatabasePoolMetrics implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    if (this.dataSource.options.type !== 'postgres') return;
    const driver = this.dataSource.driver as PostgresDriver;
    this.metrics.watchDatabasePool(() => {
      const pool = driver.master as PgPool | undefined;
      return {
        total: pool?.totalCount ?? 0,
        idle: pool?.idleCount ?? 0,
        waiting: pool?.waitingCount ?? 0,
        max: pool?.options.max ?? 0,
      };
    });
  }
}
