/** How one failed attempt is judged; produced by a classifier from whatever the operation threw. */
export interface ErrorClass {
  /** Worth another attempt: network trouble, timeouts, 429, 5xx. Never another 4xx. */
  retryable: boolean;
  /** `rejected` means the upstream refused this request; it does not count toward the circuit. */
  outcome: 'error' | 'timeout' | 'rejected';
  /** The upstream asked us to wait this long (Retry-After) before the next attempt. */
  retryAfterMs?: number;
  /** The upstream's HTTP status, when it answered. */
  status?: number;
  /** The upstream's response headers, when it answered (callers read rate-limit counters). */
  headers?: Headers;
}

export type ErrorClassifier = (error: unknown) => ErrorClass;

export interface OperationContext {
  /** Aborted when the attempt times out (and once it settles): pass it to the socket. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
  /** The correlation id of the request being served, to send as `X-Request-ID`. */
  requestId?: string;
}

export type UpstreamOperation<T> = (ctx: OperationContext) => Promise<T>;

export interface CallOptions {
  /** Budget of each attempt, in milliseconds. */
  timeoutMs: number;
  /** Attempts after the first one. Default 2. */
  retries?: number;
  /** Default: `classifyHttpError` (fetch network errors and HTTP statuses). */
  classify?: ErrorClassifier;
}

export type QueryValue = string | number | boolean | undefined;

export interface OutboundRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** Appended to the URL's query; `undefined` values are left out. */
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  timeoutMs: number;
  retries?: number;
  /**
   * Retry a 429 (after its Retry-After) like a 5xx. Default true. With false a 429 is thrown at once
   * as `UpstreamRejectedError` (status 429, headers) and does not count toward the circuit, so a
   * caller holding several API keys can switch to the next one.
   */
  retryOn429?: boolean;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response says JSON, the text otherwise, `undefined` when empty. */
  body: unknown;
}

/** Resilience settings of one provider; `configureProvider` overrides any of them. */
export interface ProviderOptions {
  /** Consecutive failed attempts (5xx, 429, timeouts, network) that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one trial call through. */
  halfOpenAfterMs: number;
  /** First backoff ceiling; each retry doubles it (full jitter: the wait is random below it). */
  initialDelayMs: number;
  /** Ceiling of any backoff wait. */
  maxDelayMs: number;
  /**
   * Longest Retry-After honoured; a longer one fails the call instead of waiting. Default: the
   * call's `timeoutMs`.
   */
  maxRetryAfterMs?: number;
}

export const DEFAULT_PROVIDER_OPTIONS: Readonly<ProviderOptions> = {
  failureThreshold: 5,
  halfOpenAfterMs: 30_000,
  initialDelayMs: 150,
  maxDelayMs: 2_000,
};

export const DEFAULT_RETRIES = 2;

export type CircuitStatus = 'closed' | 'open' | 'half-open' | 'isolated';
