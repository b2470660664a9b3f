// Loaded first by main.ts: Sentry must be initialised before anything else is imported.
import { initSentry } from './common/observability/sentry';
import { buildConfig } from './config/configuration';
import { loadDotEnv } from './config/dotenv';

loadDotEnv();
try {
  initSentry(buildConfig(process.env).sentry, process.env.npm_package_version);
} catch {
  // Invalid configuration is reported by main.ts, which refuses to start.
}
