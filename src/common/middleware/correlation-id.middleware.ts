import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { RequestContext } from '../context/request-context';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Reuses a well-formed incoming `X-Request-ID`, otherwise makes a UUID v4 (docs/api.md, Conventions). */
export function resolveRequestId(header: string | string[] | undefined): string {
  const candidate = Array.isArray(header) ? header[0] : header;
  return candidate !== undefined && REQUEST_ID_PATTERN.test(candidate) ? candidate : randomUUID();
}

/**
 * First middleware of the app: fixes the request id, echoes it on the response (errors and 404s
 * included) and opens the request's context for everything that follows, with the app's root
 * logger for what the request logs through Nest's Logger.
 */
export function correlationIdMiddleware(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = resolveRequestId(req.headers['x-request-id']);
    req.id = requestId;
    res.setHeader('X-Request-ID', requestId);
    RequestContext.run({ requestId, logger }, next);
  };
}
