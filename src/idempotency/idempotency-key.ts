import type { IncomingHttpHeaders } from 'node:http';

/** The request header a client names a retryable operation with (docs/api.md, Idempotency keys). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Set on a response that is a stored first response given again. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** 1–255 visible ASCII characters (0x21–0x7E): no space, no control character, nothing beyond ASCII. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export type IdempotencyKeyCheck = { ok: true; key: string | undefined } | { ok: false; problem: string };

/**
 * Reads `Idempotency-Key` from the request headers: `key` undefined when the header is absent (the
 * request is served without idempotency). Node joins a repeated header with ", ", so two keys fail
 * on the space, as they should: one operation has one key.
 */
export function readIdempotencyKey(headers: IncomingHttpHeaders): IdempotencyKeyCheck {
  const value = headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  if (value === undefined) return { ok: true, key: undefined };
  if (Array.isArray(value)) return { ok: false, problem: 'must be sent once' };
  if (value.length === 0) return { ok: false, problem: 'must not be empty' };
  if (value.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return { ok: false, problem: `must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters` };
  }
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    return {
      ok: false,
      problem: 'must be visible ASCII characters only (no spaces, no control or non-ASCII characters)',
    };
  }
  return { ok: true, key: value };
}
