import type { Params } from 'nestjs-pino';
import { pino, destination, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import { SERVICE_NAME, SERVICE_VERSION } from '../build-info';
import type { AppSettings } from '../../config/config.types';
import { RequestContext } from '../context/request-context';

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

/** The application's root pino logger: one per app instance, provided beside nestjs-pino. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * JSON lines, credentials redacted, the request id and user id on every line of a request; `time`
 * in ISO 8601, `level` as a word, `service` and `version` on every line (docs/operations.md).
 */
export function createRootLogger(app: AppSettings, stream?: DestinationStream): Logger {
  return pino(
    {
      level: app.logLevel,
      base: { service: SERVICE_NAME, version: SERVICE_VERSION },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin: () => {
        const context = RequestContext.current();
        return context ? { requestId: context.requestId, userId: context.userId } : {};
      },
    },
    stream ?? stdout(),
  );
}

/**
 * nestjs-pino over `root`, with no middleware of its own (pino-http built a child logger for every
 * request, logged or not): `requestLogMiddleware` writes the one line per request, and the request
 * context carries `root` for what a request logs through Nest's Logger, so it goes to its own app.
 */
export function buildLoggerOptions(root: Logger): Params {
  return { pinoHttp: { logger: root }, useExisting: true, forRoutes: [] };
}

/**
 * Standard output written synchronously. pino's default destination writes asynchronously through
 * libuv's thread pool, one `fs.write` per line: 5 % of a cached lookup's CPU. A synchronous write to
 * the container's stdout pipe is one system call, and nothing is lost if the process dies.
 */
function stdout(): DestinationStream {
  return destination({ dest: 1, sync: true });
}
