import type { ErrorEvent } from '@sentry/node';

const SECRET_HEADERS = ['authorization', 'cookie', 'key', 'x-api-key'];

/** Last line of defence: no credentials leave in a Sentry event. */
export function scrubSentryEvent(event: ErrorEvent): ErrorEvent {
  const headers = event.request?.headers;
  if (headers) {
    for (const name of Object.keys(headers)) {
      if (SECRET_HEADERS.includes(name.toLowerCase())) headers[name] = '[redacted]';
    }
  }
  if (event.request) {
    delete event.request.cookies;
    delete event.request.data;
    if (event.request.query_string) event.request.query_string = '[redacted]';
  }
  return event;
}
