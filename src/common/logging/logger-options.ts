import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppSettings } from '../../config/config.types';
import { RequestContext } from '../context/request-context';
import { routeTemplate } from '../route-template';

/** Paths whose requests are logged at debug, not info (CONTRACT §5). */
const OPERATIONAL_PATH = /^\/(health|metrics|docs)(\/|-json|$|\?)/;

/** Anything that could carry a credential, wherever it appears in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers.key',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.password_hash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.api_key',
  '*.secret',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.key',
];

type UserRequest = IncomingMessage & { user?: { id?: string } };

export function buildLoggerOptions(app: AppSettings, stream?: DestinationStream): Params {
  const options: NonNullable<Params['pinoHttp']> = {
    level: app.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    genReqId: (req) => (req as IncomingMessage & { id?: string }).id ?? RequestContext.requestId() ?? '',
    mixin: () => {
      const context = RequestContext.current();
      return context ? { requestId: context.requestId, userId: context.userId } : {};
    },
    customLogLevel: (req, res, err) => {
      if (err || res.statusCode >= 500) return 'error';
      if (OPERATIONAL_PATH.test(req.url ?? '')) return 'debug';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    customSuccessObject: (req, res, value: Record<string, unknown>) => requestSummary(req, res, value),
    customErrorObject: (req, res, _err, value: Record<string, unknown>) => requestSummary(req, res, value),
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: stripQuery(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: ServerResponse & { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    quietReqLogger: true,
    autoLogging: true,
  };
  return { pinoHttp: stream ? [options, stream] : options };
}

/** The one line per request: method, route template, status and the user when known. */
function requestSummary(req: IncomingMessage, res: ServerResponse, value: Record<string, unknown>) {
  return {
    ...value,
    method: req.method,
    route: routeTemplate(req),
    status: res.statusCode,
    userId: (req as UserRequest).user?.id,
  };
}

/** Query strings may carry tokens or keys; logs keep only the path. */
function stripQuery(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : url.slice(0, index);
}
