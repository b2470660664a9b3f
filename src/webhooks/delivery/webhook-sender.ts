import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { hostOf, PinnedAddress } from './address-guard';

/** At most this much of an answer's body is read and kept (docs/api.md, Webhooks). */
export const RESPONSE_KEEP_BYTES = 1024;

export interface OutgoingDelivery {
  url: URL;
  /** The checked address the connection must go to, whatever DNS says by now. */
  pinned: PinnedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the attempt without counting it (shutdown). */
  signal?: AbortSignal;
}

export interface AttemptOutcome {
  /** A 2xx status arrived within the timeout. */
  ok: boolean;
  statusCode: number | null;
  /** Why it failed, for the delivery row and the log; null on success. */
  error: string | null;
  /** The start of the answer's body (at most RESPONSE_KEEP_BYTES, UTF-8, lossy); null without an answer. */
  response: string | null;
  /** The attempt was aborted through `signal`: give it back, it does not count. */
  aborted: boolean;
}

/**
 * Sends one delivery attempt with node:http(s), never following redirects (a 3xx is a failure),
 * connecting only to the pinned address (a custom `lookup`, so DNS cannot rebind between the
 * check and the connect), with one deadline over connect, headers and the first KiB of the body.
 */
export function sendDelivery(delivery: OutgoingDelivery): Promise<AttemptOutcome> {
  const { url, pinned, timeoutMs, signal } = delivery;
  return new Promise((resolve) => {
    let settled = false;
    let statusCode: number | null = null;
    let location: string | undefined;
    const kept: Buffer[] = [];
    let keptBytes = 0;

    /** Settles once: on the answer, a socket error, the deadline or an abort; then drops the socket. */
    const finish = (failure?: string, aborted = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      req.destroy();
      const ok = !failure && statusCode !== null && statusCode >= 200 && statusCode <= 299;
      resolve({
        ok,
        statusCode,
        error: ok ? null : (failure ?? describeStatus(statusCode, location)),
        response: statusCode === null ? null : Buffer.concat(kept).subarray(0, RESPONSE_KEEP_BYTES).toString('utf8'),
        aborted,
      });
    };

    const host = hostOf(url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send({
      protocol: url.protocol,
      host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers: {
        ...delivery.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(delivery.body)),
        'user-agent': 'Argus-Webhooks/1',
      },
      agent: false,
      lookup: pinnedLookup(pinned),
      // TLS still verifies the certificate against the URL's host name, not the pinned address.
      servername: isIP(host) ? undefined : host,
    });
    // A status that arrived in time stands even if the rest of its body does not come.
    const timer = setTimeout(
      () => finish(statusCode === null ? `no answer within ${timeoutMs} ms` : undefined),
      timeoutMs,
    );
    const onAbort = () => finish('aborted', true);
    signal?.addEventListener('abort', onAbort, { once: true });

    req.once('error', (error: NodeJS.ErrnoException) => finish(`request failed: ${error.code ?? error.message}`));
    req.once('response', (res: IncomingMessage) => {
      statusCode = res.statusCode ?? null;
      location = res.headers.location;
      res.on('data', (chunk: Buffer) => {
        kept.push(chunk);
        keptBytes += chunk.length;
        if (keptBytes >= RESPONSE_KEEP_BYTES) finish();
      });
      res.once('end', () => finish());
      res.once('error', () => finish());
    });
    if (signal?.aborted) onAbort();
    else req.end(delivery.body);
  });
}

/** A `lookup` that answers every host name with the pinned address (both callback shapes). */
function pinnedLookup({ address, family }: PinnedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) {
      const callAll = callback as unknown as (error: null, all: Array<{ address: string; family: number }>) => void;
      callAll(null, [{ address, family }]);
    } else {
      callback(null, address, family);
    }
  };
}

function describeStatus(statusCode: number | null, location: string | undefined): string {
  if (statusCode !== null && statusCode >= 300 && statusCode <= 399) {
    const target = location ? ` (Location: ${location.slice(0, 200)})` : '';
    return `HTTP ${statusCode}: redirects are not followed${target}`;
  }
  return `HTTP ${statusCode}`;
}
