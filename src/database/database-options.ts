import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { DatabaseSettings } from '../config/config.types';
import { TypeOrmLogger } from './typeorm-logger';
import { POSTGRES_MIGRATIONS } from './migrations/postgres';
import { SQLITE_MIGRATIONS } from './migrations/sqlite';

/**
 * The one place connection settings are built: PostgreSQL when DATABASE_URL is set, the embedded
 * SQLite file otherwise. Used by TypeOrmModule and by the CLI data source. No entity list: the app
 * gathers each room's entities from its `TypeOrmModule.forFeature` (autoLoadEntities), so this
 * room never imports the feature rooms, and migrations (all the CLI runs) need none.
 */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = {
    synchronize: false,
    // DB_MIGRATIONS=auto; the app runs them under a lock (see openDataSource), the CLI as usual.
    migrationsRun: settings.migrations === 'auto',
    migrationsTableName: 'migrations',
    logger: new TypeOrmLogger(),
    maxQueryExecutionTime: 1000,
  };

  if (settings.url) {
    return {
      ...common,
      type: 'postgres',
      url: settings.url,
      migrations: POSTGRES_MIGRATIONS,
      // Fail fast when the server is unreachable so requests get a 503 instead of hanging.
      connectTimeoutMS: 3000,
      extra: { max: settings.poolMax, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 3000 },
    };
  }

  mkdirSync(dirname(settings.sqlitePath), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: settings.sqlitePath,
    migrations: SQLITE_MIGRATIONS,
    prepareDatabase: (db: { pragma(statement: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}
