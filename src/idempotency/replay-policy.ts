/**
 * Which first responses a key keeps (docs/api.md, "Idempotency keys"), as Stripe does: a response is
 * kept when the operation ran and its outcome is final, so a retry gets that outcome again; it is
 * not kept when the request was refused before anything ran, or the outcome may differ on a retry,
 * so the client can retry with the same key:
 * - kept: every 2xx and 3xx, and the 4xx the operation itself decided (400 "not a public address",
 *   404, 410, 413, 415, 422 "corrupt image", …);
 * - not kept: 400 `validation-failed` (the body or parameters were refused before the handler ran:
 *   fix them and retry with the same key), 401, 403, 408, 409, 425, 429 (retry later), every 5xx.
 */
export function isReplayable(status: number, refusedBeforeHandler: boolean): boolean {
  if (refusedBeforeHandler) return false;
  if (status >= 500) return false;
  return !RETRYABLE_CLIENT_ERRORS.has(status);
}

const RETRYABLE_CLIENT_ERRORS = new Set([401, 403, 408, 409, 425, 429]);

/** The response headers a replay carries again (lower-case); the rest belong to the first exchange. */
export const REPLAYED_HEADERS = ['content-type', 'location', 'content-location', 'preference-applied', 'cache-control'];
