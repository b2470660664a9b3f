/** SQLite (embedded) migrations in the order they run. */
export const SQLITE_MIGRATIONS: Function[] = [];
