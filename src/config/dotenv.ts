import { existsSync } from 'node:fs';

/** Reads `.env` in development only (CONTRACT §6); production takes its environment as given. */
export function loadDotEnv(path = '.env'): void {
  if (process.env.NODE_ENV === 'production' || !existsSync(path)) return;
  process.loadEnvFile(path);
}
