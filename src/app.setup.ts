import { INestApplication, VersioningType } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, ServerObject, SwaggerModule } from '@nestjs/swagger';
import * as Sentry from '@sentry/node';
import helmet from 'helmet';
import type { Logger as PinoLogger } from 'pino';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { markRateLimitedRoutes } from './rate-limit/rate-limit.openapi';
import { RATE_LIMIT_RESPONSE_HEADERS } from './rate-limit/rate-limits';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { fallbackOperationId, finishDocument } from './common/openapi/openapi-document';
import { applyServerTimeouts } from './common/http/server-timeouts';
import { ROOT_LOGGER } from './common/logging/logger-options';
import { requestLogMiddleware } from './common/logging/request-log.middleware';
import { correlationIdMiddleware } from './common/middleware/correlation-id.middleware';
import { corsMiddleware } from './common/middleware/cors.middleware';
import { AppValidationPipe } from './common/validation/validation.pipe';
import { AppConfig } from './config/config.types';
import { RawEnv } from './config/env-reader';
import { initSentry } from './common/observability/sentry';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';

/** What a browser script may read: the request id, where a job lives, replays, and what the rate limits answer with. */
export const EXPOSED_HEADERS = [
  'X-Request-ID',
  'Location',
  'Idempotent-Replayed',
  'Preference-Applied',
  ...RATE_LIMIT_RESPONSE_HEADERS,
];

/** Builds the application exactly as production runs it; main.ts and every e2e test call this. */
export async function createApp(env: RawEnv, options: AppModuleOptions = {}): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(env, options), {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(app);
  return app;
}

export function configureApp(app: NestExpressApplication): void {
  const config = app.get<ConfigService<AppConfig, true>>(ConfigService);
  const settings = config.get('app', { infer: true });

  // main.ts initialises Sentry first (src/instrument.ts); an app built without it (tests) does it here.
  if (!Sentry.isInitialized()) initSentry(config.get('sentry', { infer: true }));
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.disable('x-powered-by');
  // A hop count, never `true`: `true` would trust the client's own left-most X-Forwarded-For.
  app.set('trust proxy', settings.trustProxy ?? false);

  // Order matters: the correlation id exists before anything can fail or log.
  const rootLogger = app.get<PinoLogger>(ROOT_LOGGER);
  app.use(correlationIdMiddleware(rootLogger));
  app.use(requestLogMiddleware(rootLogger));
  app.use(httpMetricsMiddleware(app.get(MetricsService)));
  app.use(helmet({ strictTransportSecurity: settings.isProduction }));
  app.use(corsMiddleware({ origin: settings.allowedOrigins, exposedHeaders: EXPOSED_HEADERS, maxAge: 600 }));
  // JSON bodies are read by AppGuard once a request is admitted (docs/api.md, "Request hygiene").
  applyServerTimeouts(app.getHttpServer(), settings, rootLogger);

  app.enableVersioning({ type: VersioningType.URI });
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  setUpSwagger(app);
}

function setUpSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/**
 * The OpenAPI document of the app (docs/api.md, "OpenAPI document"): served at /docs-json and
 * written to openapi.json by `npm run openapi`. It depends on the code only, never on configuration.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  markRateLimitedRoutes(app);
  const config = new DocumentBuilder()
    .setTitle('Argus API')
    .setDescription(
      'Image analysis and IP reputation. Errors are RFC 9457 problem details (`application/problem+json`, the ' +
        '`Problem` schema); every response carries X-Request-ID. Authenticate with a bearer access token from ' +
        '`POST /v1/auth/login`. Guide: docs/api.md.',
    )
    .setVersion('1')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'Access token from /v1/auth/register, /login or /refresh (or an identity provider’s token when configured). ' +
        'Verified per RFC8725: the algorithm is pinned per issuer (`none` refused), and `exp`, `iat`, `iss`, `aud`, ' +
        '`sub` and `jti` are required; a revoked or over-long-lived token is refused.',
    })
    .addTag('auth', 'Accounts and tokens: register, sign in, refresh, sign out, who am I.')
    .addTag('analyses', 'Image analyses: every upload is a job; poll or long-poll it, list, download, delete.')
    .addTag('ip', 'IP reputation: one address, many at once, history, abuse reports.')
    .addTag('webhooks', 'Signed event deliveries (Standard Webhooks) to your endpoints.')
    .addTag('admin', 'Operator routes; role `admin` only (anyone else gets 404).')
    .addTag('operations', 'Health probes (not versioned, not rate limited, no token).')
    .build();
  config.servers = [
    {
      url: '/',
      description: 'This deployment (local, staging or production): the host that serves this document.',
      'x-internal': false,
    } as ServerObject,
  ];
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) => fallbackOperationId(controllerKey, methodKey),
  });
  return finishDocument(document);
}
