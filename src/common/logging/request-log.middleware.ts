import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import type { Level, Logger } from 'pino';
import { routeTemplate } from '../route-template';

/** Paths whose requests are logged at debug, not info (docs/operations.md). */
const OPERATIONAL_PATH = /^\/(health|metrics|docs)(\/|-json|$|\?)/;

type UserRequest = Request & { user?: { id?: string } };

/** The response being written on each connection, for an answer the server itself must cut short. */
const inFlight = new WeakMap<Duplex, ServerResponse>();

/** The response in progress on this connection, if a request on it reached the app. */
export function responseInFlight(socket: Duplex): ServerResponse | undefined {
  return inFlight.get(socket);
}

/**
 * One JSON line per request, written when the response is done (or the client went away): method,
 * route template, status, duration, client address and user. Built only when its level is enabled,
 * and through one long-lived logger — no per-request child logger — so an unlogged health check
 * costs nothing. `requestId` and `userId` are set explicitly: a socket's `close` may fire outside
 * the request's context.
 */
export function requestLogMiddleware(root: Logger) {
  // Without redaction: these lines are built below from fields that never hold a credential, and
  // the redaction paths' wildcards made each line eight times dearer (12 µs instead of 1.5 µs).
  // Every other line stays redacted.
  const log = root.child({}, { redact: [] });
  return (req: Request, res: Response, next: NextFunction): void => {
    const startedAt = performance.now();
    const socket = req.socket;
    inFlight.set(socket, res);
    res.once('close', () => {
      if (inFlight.get(socket) === res) inFlight.delete(socket);
      const completed = res.writableFinished;
      const level = levelOf(req.originalUrl, res.statusCode, completed);
      if (!log.isLevelEnabled(level)) return;
      log[level](
        {
          requestId: req.id,
          userId: (req as UserRequest).user?.id,
          method: req.method,
          route: routeTemplate(req),
          url: stripQuery(req.originalUrl),
          status: res.statusCode,
          responseTime: Math.round(performance.now() - startedAt),
          remoteAddress: req.ip,
        },
        completed ? 'request completed' : 'request aborted',
      );
    });
    next();
  };
}

/** error for 5xx, debug for operational routes, warn for 4xx and abandoned requests, info otherwise. */
export function levelOf(url: string, status: number, completed = true): Level {
  if (status >= 500) return 'error';
  if (OPERATIONAL_PATH.test(url)) return 'debug';
  return status >= 400 || !completed ? 'warn' : 'info';
}

/** Query strings may carry tokens or keys; logs keep only the path. */
function stripQuery(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : url.slice(0, index);
}
