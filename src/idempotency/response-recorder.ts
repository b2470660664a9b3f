import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { REPLAYED_HEADERS } from './replay-policy';
import type { StoredResponse } from './idempotency-store';

/**
 * Calls `settle` with the response the moment it is sent — status, the replayed headers and the
 * exact body text — and lets it leave only once `settle` is done. One place sees successes (Nest's
 * `res.json(value)`) and errors (the problem filter's `res.send(text)`) alike, so a replay is the
 * first response byte for byte, and a retry that arrives right after the answer finds it stored.
 * Both senders end in Express's `res.send`, which this wraps once for this response only; the e2e
 * suite (test/idempotency.e2e-spec.ts) pins that through both paths.
 *
 * `settle` gets `undefined` for a body that is not text (it is then not kept); it must not reject.
 */
export function settleBeforeSending(
  res: Response,
  settle: (response: StoredResponse | undefined) => Promise<void>,
): void {
  const send = res.send;
  res.send = function sendOnceSettled(this: Response, body?: unknown): Response {
    res.send = send;
    void settle(recorded(res, body))
      .then(() => send.call(res, body))
      // Something else answered meanwhile (a request timeout): this response can no longer go out.
      .catch((error: unknown) => logger.warn({ msg: 'response not sent after idempotency settle', err: error }));
    return res;
  };
}

const logger = new Logger('IdempotencyInterceptor');

function recorded(res: Response, body: unknown): StoredResponse | undefined {
  const text = bodyText(body, String(res.getHeader('content-type') ?? ''));
  if (text === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = res.getHeader(name);
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  // res.send(object) is sent as res.json would send it, Content-Type included.
  if (isObjectBody(body)) headers['content-type'] ??= 'application/json; charset=utf-8';
  return { status: res.statusCode, headers, body: text };
}

function bodyText(body: unknown, contentType: string): string | undefined {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return /json|^text\//i.test(contentType) ? body.toString('utf8') : undefined;
  if (isObjectBody(body)) return JSON.stringify(body);
  return undefined;
}

function isObjectBody(body: unknown): body is object {
  return typeof body === 'object' && body !== null && !Buffer.isBuffer(body);
}
