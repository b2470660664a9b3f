import { INestApplication, VersioningType } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import * as Sentry from '@sentry/node';
import helmet from 'helmet';
import type { Logger as PinoLogger } from 'pino';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { RATE_LIMIT_RESPONSE_HEADERS } from './rate-limit/rate-limits';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter';
import { JsonBodyInterceptor } from './common/http/json-body.interceptor';
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

/** What a browser script may read: the request id and what the rate limits answer with. */
export const EXPOSED_HEADERS = ['X-Request-ID', ...RATE_LIMIT_RESPONSE_HEADERS];

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
  // JSON bodies are read after the guards, bounded in size and depth (docs/api.md, "Request hygiene").
  app.useGlobalInterceptors(new JsonBodyInterceptor(settings.jsonBodyLimitBytes));
  applyServerTimeouts(app.getHttpServer(), settings, rootLogger);

  app.enableVersioning({ type: VersioningType.URI });
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  setUpSwagger(app);
}

function setUpSwagger(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Argus API')
      .setDescription(
        'Image analysis and IP reputation. Errors are RFC 9457 problem details; every response ' +
          'carries X-Request-ID. Authenticate with a bearer access token from /v1/auth/login.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}
