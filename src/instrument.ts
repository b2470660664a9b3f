import * as Sentry from '@sentry/node';
import { buildConfig } from './config/configuration';
import { SentrySettings } from './config/config.types';
import { loadDotEnv } from './config/dotenv';
import { scrubSentryEvent } from './common/errors/sentry-scrubber';

/** Starts Sentry when a DSN is configured. Loaded first by main.ts, before any other import. */
export function initSentry(settings: SentrySettings, release?: string): boolean {
  if (!settings.dsn) return false;
  Sentry.init({
    dsn: settings.dsn,
    environment: settings.environment,
    release,
    tracesSampleRate: settings.tracesSampleRate,
    sendDefaultPii: false,
    beforeSend: scrubSentryEvent,
  });
  return true;
}

loadDotEnv();
try {
  initSentry(buildConfig(process.env).sentry, process.env.npm_package_version);
} catch {
  // Invalid configuration is reported by main.ts, which refuses to start.
}
