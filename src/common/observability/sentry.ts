import * as Sentry from '@sentry/node';
import type { ErrorEvent } from '@sentry/node';
import { SentrySettings } from '../../config/config.types';

const SECRET_HEADERS = ['authorization', 'cookie', 'key', 'x-api-key'];

/** Starts Sentry when a DSN is configured; 4xx are never sent (the problem filter reports 5xx only). */
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

/** Last line of defence: no credentials leave in a Sentry event. */
export function scrubSentryEvent(event: ErrorEvent): ErrorEvent {
  const request = event.request;
  if (!request) return event;
  for (const name of Object.keys(request.headers ?? {})) {
    if (SECRET_HEADERS.includes(name.toLowerCase())) request.headers![name] = '[redacted]';
  }
  delete request.cookies;
  delete request.data;
  if (request.query_string) request.query_string = '[redacted]';
  return event;
}
