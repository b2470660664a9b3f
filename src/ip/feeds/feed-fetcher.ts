import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { classifyHttpError, HttpStatusError } from '../../outbound-http/http-error.classifier';
import { OutboundHttpService } from '../../outbound-http/outbound-http.service';
import type { ErrorClass } from '../../outbound-http/outbound-http.types';

/** What the previous successful fetch said, to make the next one conditional. */
export interface FeedValidators {
  etag?: string;
  lastModified?: string;
}

export type FeedFetchResult =
  { status: 'not-modified' } | { status: 'fetched'; text: string; validators: FeedValidators };

/** The body was larger than the feed size cap: refused, never retried. */
export class FeedTooLargeError extends Error {
  override readonly name = 'FeedTooLargeError';
}

export interface FeedFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  retries: number;
}

/**
 * Fetches one feed URL. `http(s):` goes through the bounded outbound client (timeout, retries with
 * backoff, circuit breaker and metrics under the provider name `feed:<name>`) with `If-None-Match`
 * / `If-Modified-Since` from the last good copy; a 304 costs no body. The body is read as a stream
 * and abandoned past `maxBytes`. Credentials in the URL (`https://user:pass@host/…`) are sent as
 * Basic authorization, never as part of the URL. `file:` reads the file; an unchanged modification
 * time counts as not modified.
 */
export async function fetchFeed(
  http: OutboundHttpService,
  provider: string,
  url: string,
  validators: FeedValidators,
  options: FeedFetchOptions,
): Promise<FeedFetchResult> {
  const target = new URL(url);
  if (target.protocol === 'file:') return fetchFile(target, validators, options.maxBytes);
  const headers = new Headers({ accept: 'text/plain, application/json;q=0.9, */*;q=0.5' });
  if (target.username !== '' || target.password !== '') {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    headers.set('authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
    target.username = '';
    target.password = '';
  }
  if (validators.etag !== undefined) headers.set('if-none-match', validators.etag);
  if (validators.lastModified !== undefined) headers.set('if-modified-since', validators.lastModified);
  return http.execute(
    provider,
    async ({ signal, requestId }) => {
      if (requestId !== undefined) headers.set('x-request-id', requestId);
      const response = await fetch(target, { headers, signal, redirect: 'follow' });
      if (response.status === 304) {
        await response.body?.cancel();
        return { status: 'not-modified' } as const;
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel();
        throw new HttpStatusError(response.status, response.headers);
      }
      const text = await readCapped(response, options.maxBytes);
      return {
        status: 'fetched',
        text,
        validators: {
          etag: response.headers.get('etag') ?? undefined,
          lastModified: response.headers.get('last-modified') ?? undefined,
        },
      } as const;
    },
    { timeoutMs: options.timeoutMs, retries: options.retries, classify: classifyFeedError },
  );
}

function classifyFeedError(error: unknown): ErrorClass {
  if (error instanceof FeedTooLargeError) return { retryable: false, outcome: 'rejected' };
  return classifyHttpError(error);
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new FeedTooLargeError(`feed body of ${declared} bytes is over the ${maxBytes}-byte cap`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new FeedTooLargeError(`feed body is over the ${maxBytes}-byte cap`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function fetchFile(target: URL, validators: FeedValidators, maxBytes: number): Promise<FeedFetchResult> {
  const path = fileURLToPath(target);
  const info = await stat(path);
  const lastModified = info.mtime.toUTCString() + ` (${info.mtimeMs}/${info.size})`;
  if (validators.lastModified === lastModified) return { status: 'not-modified' };
  if (info.size > maxBytes)
    throw new FeedTooLargeError(`feed file of ${info.size} bytes is over the ${maxBytes}-byte cap`);
  return { status: 'fetched', text: await readFile(path, 'utf8'), validators: { lastModified } };
}
