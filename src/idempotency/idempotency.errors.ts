import { AppError, ErrorCode } from '../common/errors/app-error';
import { ValidationFailedException } from '../common/errors/validation.exception';
import { IDEMPOTENCY_KEY_HEADER } from './idempotency-key';

/** What a client is told to wait before retrying a key whose first request is still being served. */
export const IN_FLIGHT_RETRY_AFTER_S = 1;

const STORE_RETRY_AFTER_S = 5;

export function malformedKey(problem: string): ValidationFailedException {
  return new ValidationFailedException([{ field: IDEMPOTENCY_KEY_HEADER, message: problem }]);
}

export function keyReused(): AppError {
  return new AppError(
    ErrorCode.IdempotencyKeyReused,
    'This Idempotency-Key was used for a different request (method, path or body) in the last 24 hours; ' +
      'use a new key for a new request.',
  );
}

/** A kept response sealed with a secret that is no longer configured: the key cannot answer any more. */
export function keptResponseUnreadable(): AppError {
  return new AppError(
    ErrorCode.IdempotencyKeyReused,
    'The response kept for this Idempotency-Key can no longer be read (the server secret changed); use a new key.',
  );
}

export function keyInFlight(): AppError {
  return new AppError(
    ErrorCode.IdempotencyKeyInFlight,
    'The first request with this Idempotency-Key is still being served; retry after the time in Retry-After ' +
      'to get its response.',
    { retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_S },
  );
}

export function storeUnavailable(cause: unknown): AppError {
  return new AppError(
    ErrorCode.IdempotencyUnavailable,
    'Idempotency keys cannot be checked right now, so the request was not run; retry shortly with the same key.',
    { retryAfterSeconds: STORE_RETRY_AFTER_S, cause },
  );
}
