import { INestApplication, Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ShutdownState } from './shutdown-state';

const logger = new Logger('GracefulShutdown');
/** How long answers written at the end of the grace get to leave before every connection is cut. */
const FLUSH_MS = 100;

/**
 * SIGTERM/SIGINT (docs/operations.md): readiness turns 503, the listener closes so new connections are
 * refused, requests waiting for a job answer 202 with its Location at once, in-flight requests and
 * running jobs finish (up to `graceMs`); then jobs still running are handed back to the queue,
 * requests still open get an answer where one is possible, Nest's shutdown hooks close the
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
  const state = app.get(ShutdownState);
  const deadline = Date.now() + graceMs;
  state.begin();
  await Promise.all([drainHttp(app.getHttpServer() as Server, state, deadline), state.drain(deadline)]);
  await app.close();
}

function drainHttp(server: Server, state: ShutdownState, deadline: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    // Keep-alive connections become idle as their last response ends: close them as they do.
    const sweep = setInterval(() => server.closeIdleConnections(), 250);
    const timer = setTimeout(
      () => {
        const answered = state.answerOpenRequests();
        logger.warn({ msg: 'grace period over; closing remaining connections', answered });
        // The answers just written leave on their own (`Connection: close`); give them a moment.
        setTimeout(() => server.closeAllConnections(), answered > 0 ? FLUSH_MS : 0).unref();
      },
      Math.max(0, deadline - Date.now()),
    );
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(timer);
      // Let the responses' `close` handlers (the request log) run before the process moves on.
      void nextTurn().then(() => resolve());
    });
  });
}
