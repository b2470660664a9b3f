import { createHash } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { FakeServer, RecordedRequest, Script } from './fake-server';

/** One served feed: its body and the validators a conditional request is checked against. */
interface FeedBody {
  text: string;
  etag: string;
  lastModified: string;
}

export type FeedFailure = { status: number } | { oversize: number };

/**
 * Serves IP feeds at `/<name>` the way list publishers do (FireHOL on GitHub, the Tor Project,
 * Spamhaus): `ETag` and `Last-Modified` on every 200, `304 Not Modified` (no body) when
 * `If-None-Match` or `If-Modified-Since` still matches. `fail(name, …)` scripts errors or an
 * oversized body for the next requests of one feed. Every request is recorded with its headers,
 * so a test can tell which requests were conditional and which answers were 304.
 */
export class FeedServer extends FakeServer<RecordedRequest & { feed: string; answered?: number }> {
  private readonly feeds = new Map<string, FeedBody>();
  private readonly failures = new Map<string, Script<FeedFailure>>();

  /** `<url>/<name>` */
  urlOf(name: string): string {
    return `${this.url}/${name}`;
  }

  /** Sets (or replaces) a feed's body; a new body gets a new ETag and Last-Modified. */
  serve(name: string, text: string, lastModified = new Date()): void {
    const etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 16)}"`;
    this.feeds.set(name, { text, etag, lastModified: lastModified.toUTCString() });
  }

  fail(name: string, failure: FeedFailure, times?: number): void {
    const script = this.failures.get(name) ?? new Script<FeedFailure>();
    script.add(failure, times);
    this.failures.set(name, script);
  }

  clearFailures(): void {
    this.failures.clear();
  }

  /** The requests for one feed, oldest first. */
  requestsFor(name: string): Array<RecordedRequest & { feed: string; answered?: number }> {
    return this.requests.filter((request) => request.feed === name);
  }

  protected describe(req: RecordedRequest): RecordedRequest & { feed: string } {
    return { ...req, feed: req.path.replace(/^\//, '') };
  }

  protected handle(req: RecordedRequest & { feed: string; answered?: number }, res: ServerResponse): void {
    const failure = this.failures.get(req.feed)?.next();
    const answer = (status: number, headers: Record<string, string | number> = {}, body = ''): void => {
      req.answered = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    if (failure !== undefined && 'status' in failure) return answer(failure.status, {}, 'upstream trouble');
    if (failure !== undefined) {
      return answer(200, { 'content-type': 'text/plain' }, '203.0.113.0/24\n'.repeat(Math.ceil(failure.oversize / 15)));
    }
    const feed = this.feeds.get(req.feed);
    if (feed === undefined) return answer(404, {}, 'no such feed');
    const validators = { etag: feed.etag, 'last-modified': feed.lastModified };
    const ifNoneMatch = req.headers['if-none-match'];
    const ifModifiedSince = req.headers['if-modified-since'];
    const unchanged =
      ifNoneMatch !== undefined
        ? ifNoneMatch === feed.etag
        : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= Date.parse(feed.lastModified);
    if (unchanged) return answer(304, validators);
    return answer(200, { ...validators, 'content-type': 'text/plain; charset=utf-8' }, feed.text);
  }
}
