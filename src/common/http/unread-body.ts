import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long a closing connection stays half-open after the answer: the client, still sending, has
 * this long to read the answer before the socket is closed under it (a close with unread bytes
 * makes the kernel send a reset, which can destroy an answer the client has not read yet).
 */
export const LINGER_MS = 500;

/**
 * For a response sent before the request's body has arrived (401, 403, 413, 429, and any other
 * refusal): the rest of the body is not read — the answer says `Connection: close` and the
 * connection is closed once it is sent, after a short half-open linger (docs/api.md, "Request
 * hygiene"). Without this Node would read and discard the whole body to keep the connection.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || res.headersSent) return;
  res.setHeader('Connection', 'close');
  const socket = req.socket as Socket | null;
  // Node ends a `Connection: close` response's socket with `destroySoon()` (lib/_http_server.js,
  // resOnFinish), which destroys it as soon as the answer is written; pinned by
  // unread-body.node-http.spec.ts.
  if (socket) socket.destroySoon = () => lingeringClose(socket);
}

function lingeringClose(socket: Socket): void {
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
