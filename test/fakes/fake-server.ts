import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** What a fake received: one entry per HTTP request, in arrival order. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: URLSearchParams;
  /** Header names lower-cased; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, the text otherwise, `undefined` when empty. */
  body: unknown;
  receivedAt: Date;
}

/**
 * Scripted behaviour for the next requests. Steps are used in the order they were added; a step
 * added with `times` serves that many requests, a step without `times` serves every later request
 * (so steps added after it are never reached) until `clear()`.
 */
export class Script<T> {
  private steps: Array<{ action: T; remaining: number }> = [];

  add(action: T, times?: number): void {
    if (times !== undefined && (!Number.isInteger(times) || times < 1)) {
      throw new Error(`times must be a positive integer, got ${times}`);
    }
    this.steps.push({ action, remaining: times ?? Number.POSITIVE_INFINITY });
  }

  /** The action for the current request, or `undefined` when nothing is scripted. */
  next(): T | undefined {
    const step = this.steps[0];
    if (!step) return undefined;
    step.remaining -= 1;
    if (step.remaining <= 0) this.steps.shift();
    return step.action;
  }

  clear(): void {
    this.steps = [];
  }
}

/**
 * A real `node:http` server on 127.0.0.1 with an ephemeral port. Subclasses implement `handle`;
 * this class owns the lifecycle, the request log, body decoding and cancellable delays.
 * `close()` destroys every open connection (hanging requests included) so Jest can exit.
 */
export abstract class FakeServer<R extends RecordedRequest = RecordedRequest> {
  /** Every request received, in arrival order (see `describe` for fake-specific fields). */
  readonly requests: R[] = [];
  /** The most requests in progress at once since the server started or `resetMaxInFlight()`. */
  maxInFlight = 0;

  private inFlight = 0;
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private port: number | undefined;

  constructor() {
    this.server = createServer((req, res) => {
      void this.dispatch(req, res);
    });
  }

  /** `http://127.0.0.1:<port>` (no trailing slash). Only valid after `start()`. */
  get url(): string {
    if (this.port === undefined) throw new Error(`${this.constructor.name} is not started`);
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  /** Starts `maxInFlight` again from the requests in progress now. */
  resetMaxInFlight(): void {
    this.maxInFlight = this.inFlight;
  }

  /** Turns a received request into its log entry (fakes add their own fields). */
  protected abstract describe(req: RecordedRequest): R;

  /** Answers one request; `req` is its entry in `requests`, `rawBody` the decoded body bytes. */
  protected abstract handle(req: R, res: ServerResponse, rawBody: Buffer): Promise<void> | void;

  /** Waits `ms`; if the server closes first the promise never settles (and holds nothing open). */
  protected sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  protected sendJson(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string | number> = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    res.once('close', () => this.inFlight--);
    try {
      const { rawBody, ...record } = await readRequest(req);
      const entry = this.describe(record);
      this.requests.push(entry);
      await this.handle(entry, res, rawBody);
    } catch (error) {
      if (!res.headersSent && !res.destroyed) {
        this.sendJson(res, 500, { error: `fake server failure: ${String(error)}` });
      }
    }
  }
}

async function readRequest(req: IncomingMessage): Promise<RecordedRequest & { rawBody: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const rawBody = decode(Buffer.concat(chunks), headers['content-encoding']);
  const url = new URL(req.url ?? '/', 'http://fake.invalid');
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body: parseBody(rawBody),
    rawBody,
    receivedAt: new Date(),
  };
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      return body;
  }
}

function parseBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Narrows `unknown` to a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
