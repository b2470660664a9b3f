import { DataSource } from 'typeorm';
import { buildConfig } from '../src/config/configuration';
import { buildDataSourceOptions } from '../src/database/database-options';
import { openDataSource } from '../src/database/migrations-runner';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/** DB_MIGRATIONS (docs/operations.md): `auto` migrates at start under a lock, `off` only checks. */
describe('database migrations switch', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    // The first app owns the database; close the sharers before it drops it.
    for (const app of apps.reverse()) await app.close();
  });

  it('with DB_MIGRATIONS=off on an empty database the replica starts unready, and is ready once they have run', async () => {
    const off = await createTestApp({ DB_MIGRATIONS: 'off' });
    apps.push(off);
    const pending = await off.http().get('/health/ready').expect(503);
    expect(pending.body.details.migrations).toEqual({ status: 'down', pending: true });
    expect(await appliedMigrations(off)).toEqual([]);

    // Replicas with DB_MIGRATIONS=auto starting together (PostgreSQL: several processes; SQLite is
    // one): each migration is applied exactly once, the others wait on the lock and find none left.
    if (servicesMode) {
      const options = buildDataSourceOptions(buildConfig(off.env).database);
      const replicas = await Promise.all([1, 2, 3].map(() => openDataSource({ ...options, migrationsRun: true })));
      await Promise.all(replicas.map((replica) => replica.destroy()));
    } else {
      apps.push(await createTestApp({}, { shareWith: off }));
    }

    const applied = await appliedMigrations(off);
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size).toBe(applied.length);
    const ready = await off.http().get('/health/ready').expect(200);
    expect(ready.body.details.migrations).toEqual({ status: 'up' });
  });
});

async function appliedMigrations(t: TestApp): Promise<string[]> {
  const dataSource = t.app.get(DataSource);
  const hasTable = await dataSource.createQueryRunner().hasTable('migrations');
  if (!hasTable) return [];
  const rows: Array<{ name: string }> = await dataSource.query('SELECT name FROM migrations ORDER BY id');
  return rows.map((row) => row.name);
}
