import { existsSync } from 'node:fs';

/** Reads `.env` in development only (docs/operations.md, Configuration); production takes its environment as given. */
export function loadDotEnv(path = '.env'): void {
  if (process.env.NODE_ENV === 'production' || !existsSync(path)) return;
  process.loadEnvFile(path);
}
