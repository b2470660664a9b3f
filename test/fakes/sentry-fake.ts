import { randomUUID } from 'node:crypto';
import { ServerResponse } from 'node:http';
import type { Event as SentryEvent } from '@sentry/node';
import { FakeServer, isRecord, RecordedRequest } from './fake-server';

export type { SentryEvent };

export interface SentryEnvelopeItem {
  header: { type: string; length?: number; [key: string]: unknown };
  /** Parsed JSON when the payload is JSON, the text otherwise (attachments). */
  payload: unknown;
}

export interface SentryEnvelope {
  header: Record<string, unknown>;
  items: SentryEnvelopeItem[];
}

const PROJECT_ID = '1';
const PUBLIC_KEY = 'publickey';
const ENVELOPE_PATH = `/api/${PROJECT_ID}/envelope/`;
const STORE_PATH = `/api/${PROJECT_ID}/store/`;

/**
 * A Sentry-compatible ingest server: `POST /api/1/envelope/` (optionally gzip/deflate/br encoded)
 * and the legacy `POST /api/1/store/`. Point an SDK at `fake.dsn`.
 */
export class SentryFake extends FakeServer {
  readonly envelopes: SentryEnvelope[] = [];
  /** Error/message events (envelope items of type `event`, and legacy store bodies), in arrival order. */
  readonly events: SentryEvent[] = [];
  private waiters = new Set<(event: SentryEvent) => void>();

  get dsn(): string {
    return `http://${PUBLIC_KEY}@${this.url.replace(/^http:\/\//, '')}/${PROJECT_ID}`;
  }

  /** The text of every event that has a message (`captureMessage`, log entries). */
  get messages(): string[] {
    return this.events.map(eventMessage).filter((m): m is string => m !== undefined);
  }

  /**
   * Resolves with the first event (already received or arriving within `timeoutMs`) that matches;
   * rejects with a summary of everything received when the deadline passes.
   */
  waitFor(predicate: (event: SentryEvent) => boolean, timeoutMs = 5000): Promise<SentryEvent> {
    const found = this.events.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = (event: SentryEvent): void => {
        if (!predicate(event)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(event);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const received = this.events.map((e, i) => `  ${i + 1}. ${summarize(e)}`).join('\n') || '  (none)';
        reject(new Error(`SentryFake: no matching event within ${timeoutMs} ms. Events received:\n${received}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Forget envelopes, events and the request log. */
  reset(): void {
    this.envelopes.length = 0;
    this.events.length = 0;
    this.requests.length = 0;
  }

  protected describe(req: RecordedRequest): RecordedRequest {
    return req;
  }

  protected handle(req: RecordedRequest, res: ServerResponse, rawBody: Buffer): void {
    if (req.method === 'POST' && req.path === ENVELOPE_PATH) {
      const envelope = parseEnvelope(rawBody);
      this.envelopes.push(envelope);
      for (const item of envelope.items) {
        if (item.header.type === 'event' && isRecord(item.payload)) this.addEvent(item.payload);
      }
      const id = typeof envelope.header.event_id === 'string' ? envelope.header.event_id : randomUUID();
      return this.sendJson(res, 200, { id });
    }
    if (req.method === 'POST' && req.path === STORE_PATH && isRecord(req.body)) {
      const event: SentryEvent = req.body;
      this.addEvent(event);
      return this.sendJson(res, 200, { id: event.event_id ?? randomUUID() });
    }
    this.sendJson(res, 404, { detail: `SentryFake: no route for ${req.method} ${req.path}` });
  }

  private addEvent(event: SentryEvent): void {
    this.events.push(event);
    for (const waiter of [...this.waiters]) waiter(event);
  }
}

/**
 * Envelope = header line, then per item: an item-header line and a payload that is either
 * `length` bytes (when the item header says so) or the rest of the line.
 */
export function parseEnvelope(body: Buffer): SentryEnvelope {
  let offset = 0;
  const readLine = (): Buffer => {
    const end = body.indexOf(0x0a, offset);
    const line = body.subarray(offset, end === -1 ? body.length : end);
    offset = end === -1 ? body.length : end + 1;
    return line;
  };
  const header = parseJsonObject(readLine().toString('utf8'), 'envelope header');
  const items: SentryEnvelopeItem[] = [];
  while (offset < body.length) {
    const headerLine = readLine().toString('utf8');
    if (headerLine.trim() === '') continue;
    const itemHeader = parseJsonObject(headerLine, 'item header');
    let payload: Buffer;
    if (typeof itemHeader.length === 'number') {
      payload = body.subarray(offset, offset + itemHeader.length);
      offset += itemHeader.length;
      if (body[offset] === 0x0a) offset += 1;
    } else {
      payload = readLine();
    }
    const type = typeof itemHeader.type === 'string' ? itemHeader.type : 'unknown';
    items.push({ header: { ...itemHeader, type }, payload: parseMaybeJson(payload.toString('utf8')) });
  }
  return { header, items };
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (!isRecord(value)) throw new Error(`SentryFake: ${what} is not a JSON object: ${text.slice(0, 200)}`);
  return value;
}

function parseMaybeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function eventMessage(event: SentryEvent): string | undefined {
  return event.message ?? event.logentry?.message;
}

function summarize(event: SentryEvent): string {
  const exception = event.exception?.values?.map((e) => `${e.type ?? 'Error'}: ${e.value ?? ''}`).join(' | ');
  return [
    `[${event.level ?? 'error'}]`,
    exception ?? eventMessage(event) ?? '(no message)',
    event.tags ? `tags=${JSON.stringify(event.tags)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
