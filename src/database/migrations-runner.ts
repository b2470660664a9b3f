import { Logger } from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';

/** Any fixed 64-bit number, the same in every replica: the PostgreSQL advisory lock of migrations. */
const MIGRATION_LOCK_KEY = 0x4152_4755_53; // "ARGUS"

const logger = new Logger('Migrations');

/**
 * Opens the data source; with `migrationsRun` (DB_MIGRATIONS=auto) it then migrates under a
 * PostgreSQL advisory lock, so replicas that start together migrate once: the first takes the
 * lock and migrates, the others wait for it and find nothing left to run. TypeORM's own
 * `migrationsRun` takes no lock, so it is turned off here and done by hand. SQLite is one process.
 */
export async function openDataSource(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource({ ...options, migrationsRun: false }).initialize();
  if (options.migrationsRun) await migrateUnderLock(dataSource);
  return dataSource;
}

export async function migrateUnderLock(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await run(dataSource);
    return;
  }
  // The lock belongs to one session: hold one connection for the lock's whole life.
  const session = dataSource.createQueryRunner();
  await session.connect();
  try {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await run(dataSource);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await session.release();
  }
}

async function run(dataSource: DataSource): Promise<void> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  if (applied.length > 0) logger.log({ msg: 'migrations applied', migrations: applied.map((m) => m.name) });
}
