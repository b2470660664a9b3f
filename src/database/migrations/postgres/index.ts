/** PostgreSQL migrations in the order they run. */
export const POSTGRES_MIGRATIONS: Function[] = [];
