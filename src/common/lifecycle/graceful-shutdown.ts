import { INestApplication, Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { ShutdownState } from './shutdown-state';

const logger = new Logger('GracefulShutdown');

/**
 * SIGTERM/SIGINT (CONTRACT §5): readiness turns 503, the listener closes so new connections are
 * refused, in-flight requests finish (up to `graceMs`), then Nest's shutdown hooks close the
 * database and Redis, and the process exits 0.
 *
 * Nest's own `enableShutdownHooks` is not used: it runs `onModuleDestroy` (closing the database)
 * before the HTTP server stops, and re-raises the signal, so the exit code is not 0.
 */
export function installGracefulShutdown(app: INestApplication, graceMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log({ msg: 'shutting down', signal, graceMs });
    void shutdown(app, graceMs).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ msg: 'shutdown failed', err: error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

export async function shutdown(app: INestApplication, graceMs: number): Promise<void> {
  app.get(ShutdownState).begin();
  const server = app.getHttpServer() as Server;
  await drain(server, graceMs);
  await app.close();
}

function drain(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    // Keep-alive connections become idle as their last response ends: close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 250);
    const deadline = setTimeout(() => {
      logger.warn({ msg: 'grace period over; closing remaining connections' });
      server.closeAllConnections();
    }, graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve();
    });
  });
}
