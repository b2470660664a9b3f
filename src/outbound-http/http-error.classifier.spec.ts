import { classifyHttpError, classifyHttpStatus, HttpStatusError } from './http-error.classifier';

describe('classifyHttpStatus', () => {
  it.each([500, 502, 503, 504])('retries %p as an upstream error', (status) => {
    expect(classifyHttpStatus(status)).toMatchObject({ retryable: true, outcome: 'error', status });
  });

  it('retries 429 and carries its Retry-After', () => {
    const headers = new Headers({ 'retry-after': '2' });
    expect(classifyHttpStatus(429, headers)).toEqual({
      retryable: true,
      outcome: 'error',
      status: 429,
      headers,
      retryAfterMs: 2000,
    });
  });

  it('carries Retry-After on a 503 too', () => {
    expect(classifyHttpStatus(503, new Headers({ 'retry-after': '1' })).retryAfterMs).toBe(1000);
  });

  it.each([400, 401, 403, 404, 409, 422, 301])('rejects %p without retrying', (status) => {
    expect(classifyHttpStatus(status)).toMatchObject({ retryable: false, outcome: 'rejected', status });
  });

  it('rejects a 429 when the caller opts out of retrying it, keeping the headers', () => {
    const headers = new Headers({ 'x-ratelimit-remaining': '0' });
    expect(classifyHttpStatus(429, headers, { retryOn429: false })).toEqual({
      retryable: false,
      outcome: 'rejected',
      status: 429,
      headers,
    });
  });
});

describe('classifyHttpError', () => {
  it('classifies an HttpStatusError by its status', () => {
    const sut = classifyHttpError(new HttpStatusError(404, new Headers()));
    expect(sut).toMatchObject({ retryable: false, outcome: 'rejected', status: 404 });
  });

  it('retries fetch network failures', () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    expect(classifyHttpError(error)).toEqual({ retryable: true, outcome: 'error' });
  });

  it('does not retry anything else', () => {
    expect(classifyHttpError(new TypeError('Invalid URL'))).toEqual({ retryable: false, outcome: 'error' });
    expect(classifyHttpError(new SyntaxError('Unexpected token'))).toEqual({ retryable: false, outcome: 'error' });
    expect(classifyHttpError('a string')).toEqual({ retryable: false, outcome: 'error' });
  });
});
