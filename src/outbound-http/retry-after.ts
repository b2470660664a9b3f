const DELTA_SECONDS = /^\d+(\.\d+)?$/;
/** IMF-fixdate, RFC 850 and asctime dates all start with a day name. */
const HTTP_DATE = /^[A-Za-z]{3}/;

/**
 * Milliseconds to wait from a `Retry-After` value: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * A date in the past means "now" (0). Anything unreadable is `undefined`, as if absent.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (DELTA_SECONDS.test(text)) return Math.round(Number(text) * 1000);
  if (!HTTP_DATE.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait an upstream asked for in its response headers. `retry-after-ms` (sent by OpenAI and
 * compatible servers) is more precise, so it wins over `retry-after`.
 */
export function retryAfterFromHeaders(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const millis = headers.get('retry-after-ms')?.trim();
  if (millis && DELTA_SECONDS.test(millis)) return Math.round(Number(millis));
  return parseRetryAfter(headers.get('retry-after'), now);
}
