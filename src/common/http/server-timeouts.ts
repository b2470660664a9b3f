import { randomUUID } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { PROBLEM_CONTENT_TYPE, problemType, slugFor, titleFor } from '../errors/problem';
import { responseInFlight } from '../logging/request-log.middleware';

/** Request headers must arrive within this (docs/api.md, "Request hygiene"). */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * How often Node compares open requests with the two deadlines. Node's default, 30 s, would let a
 * request overrun its deadline by as much; the check walks only connections with a request in
 * progress.
 */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export interface ServerTimeoutSettings {
  /** REQUEST_TIMEOUT_S: the whole request (headers and body) must have arrived within this. */
  requestTimeoutMs: number;
}

type TimedServer = Server & { connectionsCheckingInterval: number };

/** Node's codes for a client that broke the protocol or its deadlines, and what it is answered. */
const STATUS_FOR_CODE: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

/**
 * Headers within HEADERS_TIMEOUT_MS, the whole request within REQUEST_TIMEOUT_S, else the
 * connection is closed — with a 408 problem when no answer has started (docs/api.md). A request
 * already in the app's hands is answered through its own response, so it keeps its request id and
 * its log line says 408; a request whose headers never completed gets a log line of its own.
 * Call before `listen`: Node reads `connectionsCheckingInterval` when the server starts listening.
 */
export function applyServerTimeouts(server: Server, settings: ServerTimeoutSettings, log: Logger): void {
  server.requestTimeout = settings.requestTimeoutMs;
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, settings.requestTimeoutMs);
  (server as TimedServer).connectionsCheckingInterval = TIMEOUT_CHECK_INTERVAL_MS;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => onClientError(error, socket, log));
}

function onClientError(error: NodeJS.ErrnoException, socket: Duplex, log: Logger): void {
  // A client that reset the connection cannot be answered; its request (if any) logs itself as aborted.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = STATUS_FOR_CODE[error.code ?? ''] ?? 400;
  const res = responseInFlight(socket);
  if (res && !res.headersSent) {
    answerThroughResponse(res, socket, status);
    return;
  }
  if (res) {
    // Part of the answer is out already: nothing more can be said on this connection.
    socket.destroy();
    return;
  }
  const requestId = randomUUID();
  log.warn(
    { requestId, status, code: error.code, remoteAddress: (socket as { remoteAddress?: string }).remoteAddress },
    status === 408 ? 'request timed out before its headers were complete' : 'request refused by the HTTP parser',
  );
  const body = JSON.stringify(problem(status, requestId, detailFor(status)));
  socket.end(
    `HTTP/1.1 ${status} ${titleFor(status)}\r\n` +
      'Connection: close\r\n' +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `X-Request-ID: ${requestId}\r\n\r\n${body}`,
  );
  destroyAfter(socket, 1_000);
}

function answerThroughResponse(res: ServerResponse, socket: Duplex, status: number): void {
  const requestId = String(res.getHeader('X-Request-ID') ?? randomUUID());
  const url = (res.req?.url ?? '').split('?')[0];
  res.statusCode = status;
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Connection', 'close');
  res.end(JSON.stringify({ ...problem(status, requestId, detailFor(status)), instance: url }));
  destroyAfter(socket, 1_000);
}

function problem(status: number, requestId: string, detail: string) {
  return { type: problemType(slugFor(status)), title: titleFor(status), status, detail, instance: '', requestId };
}

function detailFor(status: number): string {
  switch (status) {
    case 408:
      return 'The request did not arrive in time (headers within 10 s, the whole request within REQUEST_TIMEOUT_S).';
    case 431:
      return 'The request headers are too large.';
    default:
      return 'The request is not valid HTTP.';
  }
}

/** The answer gets this long to be written; the socket is closed in any case. */
function destroyAfter(socket: Duplex, ms: number): void {
  const timer = setTimeout(() => socket.destroy(), ms);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
