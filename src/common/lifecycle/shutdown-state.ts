import { Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setMaxListeners } from 'node:events';
import { PROBLEM_CONTENT_TYPE, problemType, titleFor } from '../errors/problem';

/** Work that must finish, or be handed back, before the process closes its connections. */
export type Drain = (deadline: number) => Promise<void>;

/**
 * The process's shutdown (docs/operations.md). `begin()` aborts `signal`: readiness reports 503, requests
 * waiting for a job answer 202 at once, workers stop taking jobs. `drain(deadline)` then waits for
 * the work registered with `onDrain` (running jobs), and `answerOpenRequests()` answers whatever
 * request is still open when the grace ends, so every request gets an answer where one is possible.
 */
@Injectable()
export class ShutdownState implements OnApplicationBootstrap {
  private readonly logger = new Logger(ShutdownState.name);
  private readonly controller = new AbortController();
  private readonly drains: Drain[] = [];
  private readonly open = new Set<ServerResponse>();

  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {
    // Every request waiting for a job listens to it until its wait ends: as many listeners as
    // waiting clients, not a leak (Node's warning past ten would say otherwise).
    setMaxListeners(Number.POSITIVE_INFINITY, this.controller.signal);
  }

  get isShuttingDown(): boolean {
    return this.controller.signal.aborted;
  }

  /** Aborted when the process has been asked to stop. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  begin(): void {
    if (!this.isShuttingDown) this.controller.abort();
  }

  onDrain(drain: Drain): void {
    this.drains.push(drain);
  }

  /** Runs every registered drain; each must settle by `deadline` (epoch ms). */
  async drain(deadline: number): Promise<void> {
    await Promise.all(
      this.drains.map((drain) =>
        drain(deadline).catch((error: unknown) => this.logger.error({ msg: 'shutdown drain failed', err: error })),
      ),
    );
  }

  /**
   * Answers every request still open with a 503 problem (`Connection: close`) unless its response
   * has begun; those are cut by the caller. Either way the request log writes its line on `close`.
   */
  answerOpenRequests(): number {
    let answered = 0;
    for (const res of this.open) {
      if (res.headersSent || res.writableEnded) continue;
      const requestId = String(res.getHeader('x-request-id') ?? '');
      const body = {
        type: problemType('shutting-down'),
        title: titleFor(503),
        status: 503,
        detail: 'The server is restarting and could not finish this request; retry it.',
        instance: (res.req?.url ?? '').split('?')[0],
        requestId,
      };
      res.writeHead(503, { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Retry-After': '1', Connection: 'close' });
      res.end(JSON.stringify(body));
      answered++;
    }
    return answered;
  }

  /** Tracks the responses in flight, for `answerOpenRequests`. */
  onApplicationBootstrap(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    server?.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      this.open.add(res);
      res.once('close', () => this.open.delete(res));
    });
  }
}
