import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from 'openai';
import { classifyOpenAiError } from './openai-error.classifier';

function apiError(status: number, headers: Record<string, string> = {}): APIError {
  return APIError.generate(status, { error: { message: 'raw upstream text' } }, undefined, new Headers(headers));
}

describe('classifyOpenAiError', () => {
  it('treats the SDK timeout as a retryable timeout', () => {
    expect(classifyOpenAiError(new APIConnectionTimeoutError())).toEqual({ retryable: true, outcome: 'timeout' });
  });

  it('treats an abort (our signal fired on timeout) as a retryable timeout', () => {
    expect(classifyOpenAiError(new APIUserAbortError())).toEqual({ retryable: true, outcome: 'timeout' });
  });

  it('retries connection errors', () => {
    const error = new APIConnectionError({ message: 'Connection error.' });
    expect(classifyOpenAiError(error)).toEqual({ retryable: true, outcome: 'error' });
  });

  it('retries 429 with retry-after-ms, then retry-after', () => {
    expect(classifyOpenAiError(apiError(429, { 'retry-after-ms': '700', 'retry-after': '5' }))).toMatchObject({
      retryable: true,
      outcome: 'error',
      status: 429,
      retryAfterMs: 700,
    });
    expect(classifyOpenAiError(apiError(429, { 'retry-after': '2' })).retryAfterMs).toBe(2000);
  });

  it.each([500, 502, 503])('retries %p', (status) => {
    expect(classifyOpenAiError(apiError(status))).toMatchObject({ retryable: true, outcome: 'error', status });
  });

  it.each([400, 401, 403, 404, 422])('rejects %p with its status and headers', (status) => {
    const result = classifyOpenAiError(apiError(status, { 'x-request-id': 'up-1' }));
    expect(result).toMatchObject({ retryable: false, outcome: 'rejected', status });
    expect(result.headers?.get('x-request-id')).toBe('up-1');
  });

  it('does not retry other errors', () => {
    expect(classifyOpenAiError(new OpenAIError('parse'))).toEqual({ retryable: false, outcome: 'error' });
    expect(classifyOpenAiError(new Error('bug'))).toEqual({ retryable: false, outcome: 'error' });
    expect(classifyOpenAiError(undefined)).toEqual({ retryable: false, outcome: 'error' });
  });
});
