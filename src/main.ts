// Sentry must be initialised before anything else is imported.
import './instrument';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createApp } from './app.setup';
import { installGracefulShutdown } from './common/lifecycle/graceful-shutdown';
import { ConfigValidationError } from './config/configuration';
import { AppConfig } from './config/config.types';
import { loadDotEnv } from './config/dotenv';

async function bootstrap(): Promise<void> {
  loadDotEnv();
  const app = await createApp(process.env);
  const config = app.get<ConfigService<AppConfig, true>>(ConfigService);
  const settings = config.get('app', { infer: true });
  const logger = new Logger('Bootstrap');

  if (config.get('auth.jwtSecretGenerated', { infer: true })) {
    logger.warn('JWT_SECRET is not set: using a random secret for this process; tokens die with it.');
  }
  installGracefulShutdown(app, settings.shutdownGraceMs);
  await app.listen(settings.port);
  const url = `http://localhost:${settings.port}`;
  logger.log({ msg: `Argus listening on ${url}; API docs at ${url}/docs`, port: settings.port });
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigValidationError) {
    console.error(error.message);
  } else {
    console.error('Argus failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
