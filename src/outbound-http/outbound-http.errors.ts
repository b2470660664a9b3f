import { AppError, ErrorCode } from '../common/errors/app-error';

interface UpstreamErrorOptions {
  cause?: unknown;
  retryAfterSeconds?: number;
  upstreamStatus?: number;
}

/**
 * What callers of `OutboundHttpService` catch. Each is an `AppError`, so one that reaches the
 * problem filter becomes the contract's 502 / 504 / 503 + Retry-After (docs/api.md, Image analysis). Messages are
 * safe for clients: never an upstream's body, a URL or a header; the original error is `cause`.
 */
export abstract class UpstreamError extends AppError {
  /** The upstream's HTTP status on the last attempt, when it answered at all. */
  readonly upstreamStatus?: number;

  protected constructor(
    code: ErrorCode,
    readonly provider: string,
    detail: string,
    options: UpstreamErrorOptions,
  ) {
    super(code, detail, { cause: options.cause, retryAfterSeconds: options.retryAfterSeconds });
    this.upstreamStatus = options.upstreamStatus;
  }
}

/** The last attempt ran out of time. */
export class UpstreamTimeoutError extends UpstreamError {
  constructor(provider: string, cause?: unknown) {
    super(ErrorCode.UpstreamTimeout, provider, `The upstream provider "${provider}" did not answer in time.`, {
      cause,
    });
    this.name = 'UpstreamTimeoutError';
  }
}

/** 5xx, 429 or a network failure that persisted through the retries. */
export class UpstreamUnavailableError extends UpstreamError {
  constructor(provider: string, upstreamStatus?: number, cause?: unknown) {
    super(ErrorCode.UpstreamError, provider, `The upstream provider "${provider}" failed to answer.`, {
      cause,
      upstreamStatus,
    });
    this.name = 'UpstreamUnavailableError';
  }
}

/** The upstream refused this request (a 4xx other than a retried 429); retrying would not help. */
export class UpstreamRejectedError extends UpstreamError {
  constructor(
    provider: string,
    upstreamStatus: number,
    /** The upstream's response headers (rate-limit counters, for key rotation), when known. */
    readonly headers?: Headers,
    cause?: unknown,
  ) {
    super(
      ErrorCode.UpstreamError,
      provider,
      `The upstream provider "${provider}" rejected the request (HTTP ${upstreamStatus}).`,
      { cause, upstreamStatus },
    );
    this.name = 'UpstreamRejectedError';
  }

  /**
   * The upstream's HTTP status (401, 404, 429, …; 0 when the upstream gave none). What Argus itself
   * answers follows `code` (502), as for every `AppError`.
   */
  override get status(): number {
    return this.upstreamStatus ?? 0;
  }
}

/** The provider's circuit is open: no call was made. */
export class CircuitOpenError extends UpstreamError {
  declare readonly retryAfterSeconds: number;

  constructor(provider: string, retryAfterSeconds: number, cause?: unknown) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(
      ErrorCode.UpstreamUnavailable,
      provider,
      `The upstream provider "${provider}" is temporarily unavailable; retry in ${seconds} s.`,
      { cause, retryAfterSeconds: seconds },
    );
    this.name = 'CircuitOpenError';
  }
}
