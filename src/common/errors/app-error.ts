/**
 * Domain failures the API reports on purpose. Each code maps to one HTTP status in
 * `statusForCode` (one exhaustive switch) and to the problem `type` `urn:argus:problem:<code>`.
 */
export enum ErrorCode {
  ValidationFailed = 'validation-failed',
  RateLimited = 'rate-limited',
  QuotaExceeded = 'quota-exceeded',
  UnsupportedMediaType = 'unsupported-media-type',
  PayloadTooLarge = 'payload-too-large',
  ImageTooLarge = 'image-too-large',
  CorruptImage = 'corrupt-image',
  UpstreamError = 'upstream-error',
  UpstreamTimeout = 'upstream-timeout',
  UpstreamUnavailable = 'upstream-unavailable',
  DatabaseUnavailable = 'database-unavailable',
  IdempotencyKeyReused = 'idempotency-key-reused',
  IdempotencyKeyInFlight = 'idempotency-key-in-flight',
  IdempotencyUnavailable = 'idempotency-unavailable',
  /** A job that could not be run to an answer, after every attempt (not a provider failure). */
  JobFailed = 'job-failed',
}

export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case ErrorCode.ValidationFailed:
      return 400;
    case ErrorCode.RateLimited:
    case ErrorCode.QuotaExceeded:
      return 429;
    case ErrorCode.UnsupportedMediaType:
      return 415;
    case ErrorCode.PayloadTooLarge:
      return 413;
    case ErrorCode.IdempotencyKeyInFlight:
      return 409;
    case ErrorCode.ImageTooLarge:
    case ErrorCode.CorruptImage:
    case ErrorCode.IdempotencyKeyReused:
      return 422;
    case ErrorCode.JobFailed:
      return 500;
    case ErrorCode.UpstreamError:
      return 502;
    case ErrorCode.UpstreamTimeout:
      return 504;
    case ErrorCode.UpstreamUnavailable:
    case ErrorCode.DatabaseUnavailable:
    case ErrorCode.IdempotencyUnavailable:
      return 503;
  }
}

export interface AppErrorOptions {
  retryAfterSeconds?: number;
  cause?: unknown;
  /**
   * Already reported to Sentry where it happened (a failed job, reported once by its worker): the
   * response that repeats it to a waiting client is not reported again.
   */
  reported?: boolean;
}

export class AppError extends Error {
  readonly retryAfterSeconds?: number;
  readonly reported: boolean;

  constructor(
    readonly code: ErrorCode,
    /** Safe for clients: never an upstream's raw message, a path or a secret. */
    readonly detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reported = options.reported ?? false;
  }

  get status(): number {
    return statusForCode(this.code);
  }
}
