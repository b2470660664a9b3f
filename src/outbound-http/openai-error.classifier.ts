import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { classifyHttpStatus } from './http-error.classifier';
import { ErrorClass } from './outbound-http.types';

/**
 * Classifies errors of the `openai` SDK (v6) for `OutboundHttpService.execute`. Use it with the
 * client's own `maxRetries: 0`, so the service is the one retry layer.
 */
export function classifyOpenAiError(error: unknown): ErrorClass {
  // Subclasses first: both timeout classes extend APIConnectionError, which extends APIError.
  if (error instanceof APIConnectionTimeoutError) return { retryable: true, outcome: 'timeout' };
  // The SDK only sees an abort from the signal we pass, and we abort only on timeout.
  if (error instanceof APIUserAbortError) return { retryable: true, outcome: 'timeout' };
  if (error instanceof APIConnectionError) return { retryable: true, outcome: 'error' };
  if (error instanceof APIError && error.status !== undefined) {
    return classifyHttpStatus(error.status, error.headers);
  }
  return { retryable: false, outcome: 'error' };
}
