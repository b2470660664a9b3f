import { retryAfterFromHeaders } from './retry-after';
import { ErrorClass } from './outbound-http.types';

/**
 * Thrown inside `OutboundHttpService.request` for a non-2xx answer. Carries only the status and
 * headers: the body may echo input or internals and never travels further.
 */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(`upstream answered HTTP ${status}`);
    this.name = 'HttpStatusError';
  }
}

export interface HttpClassifyOptions {
  /** Retry a 429 like a 5xx (default true); with false it is a plain rejection. */
  retryOn429?: boolean;
}

/** 429 and 5xx are upstream trouble worth retrying; every other non-2xx is a rejection. */
export function classifyHttpStatus(status: number, headers?: Headers, options: HttpClassifyOptions = {}): ErrorClass {
  const tooMany = status === 429 && options.retryOn429 !== false;
  if (tooMany || status >= 500) {
    return { retryable: true, outcome: 'error', status, headers, retryAfterMs: retryAfterFromHeaders(headers) };
  }
  return { retryable: false, outcome: 'rejected', status, headers };
}

/**
 * Classifies what a `fetch`-based operation threw. undici reports every connection-level failure
 * (refused, reset, DNS, TLS) as `TypeError('fetch failed')` with the reason in `cause`.
 */
export function classifyHttpError(error: unknown, options: HttpClassifyOptions = {}): ErrorClass {
  if (error instanceof HttpStatusError) return classifyHttpStatus(error.status, error.headers, options);
  if (isFetchNetworkError(error)) return { retryable: true, outcome: 'error' };
  return { retryable: false, outcome: 'error' };
}

/** Matched by shape: `fetch` may live in another realm (Jest's vm), where `instanceof TypeError` fails. */
function isFetchNetworkError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  return name === 'TypeError' && message === 'fetch failed';
}
