// Sentry must be initialised before anything else is imported.
import './instrument';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, Response } from 'express';
import { createApp } from './app.setup';
import { PROBLEM_CONTENT_TYPE, problemType, titleFor } from './common/errors/problem';
import { installGracefulShutdown } from './common/lifecycle/graceful-shutdown';
import { ConfigValidationError } from './config/configuration';
import { AppConfig } from './config/config.types';
import { loadDotEnv } from './config/dotenv';

async function bootstrap(): Promise<void> {
  loadDotEnv();
  const app = await createApp(process.env);
  const config = app.get<ConfigService<AppConfig, true>>(ConfigService);
  const settings = config.get('app', { infer: true });
  const role = config.get('jobs.role', { infer: true });
  const logger = new Logger('Bootstrap');

  if (config.get('auth.jwtSecretGenerated', { infer: true })) {
    logger.warn('JWT_SECRET is not set: using a random secret for this process; tokens die with it.');
  }
  // ARGUS_ROLE=worker: the process runs jobs and answers health and metrics (probes, scrapes), not the API.
  if (role === 'worker') app.use('/v1', refuseApi);
  installGracefulShutdown(app, settings.shutdownGraceMs);
  await app.listen(settings.port);
  const url = `http://localhost:${settings.port}`;
  logger.log({ msg: `Argus (${role}) listening on ${url}; API docs at ${url}/docs`, port: settings.port, role });
}

function refuseApi(req: Request, res: Response): void {
  res
    .status(404)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: problemType('not-found'),
        title: titleFor(404),
        status: 404,
        detail: 'This process only runs jobs (ARGUS_ROLE=worker); the API is served by the api processes.',
        instance: req.originalUrl.split('?')[0],
        requestId: String(req.id ?? ''),
      }),
    );
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) {
    console.error(error.message);
  } else {
    console.error('Argus failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
