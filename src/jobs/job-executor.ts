import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger as PinoLogger } from 'pino';
import { RequestContext, RequestContextStore } from '../common/context/request-context';
import type { MetricsService } from '../metrics/metrics.service';
import { RENEWALS_PER_LEASE } from './jobs.constants';
import type { JobQueue, QueuedJob } from './job-queue';

interface Running {
  queue: JobQueue<QueuedJob>;
  id: string;
  controller: AbortController;
  settled: Promise<void>;
  context: RequestContextStore;
}

/**
 * Runs claimed jobs for both runners: renews each job's lease while it runs, and at shutdown waits
 * for running jobs until the grace deadline, then hands the rest back to the queue (docs/operations.md:
 * "running jobs are handed back to the queue, not lost").
 */
export class JobExecutor {
  /** This process as a job holder: written into `worker_id` of the rows it claims. */
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly logger = new Logger(JobExecutor.name);
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly leaseMs: number,
    private readonly metrics: MetricsService,
    /** The app's root logger: a job's lines go to its own app (tests run several in one process). */
    private readonly rootLogger?: PinoLogger,
  ) {}

  get active(): number {
    return this.running.size;
  }

  /** When a lease taken or renewed now ends. */
  leaseUntil(): Date {
    return new Date(Date.now() + this.leaseMs);
  }

  /**
   * Runs a job this worker has claimed. Settles when the job does, or at once when it is handed
   * back (its run may go on in the background; it can no longer change the row). Never rejects: a
   * run that throws has its job handed back, for the next delivery to try again.
   */
  run<J extends QueuedJob>(queue: JobQueue<J>, job: J): Promise<void> {
    const controller = new AbortController();
    const key = `${queue.name}:${job.id}`;
    const context: RequestContextStore = { requestId: queue.requestIdOf?.(job) ?? job.id, logger: this.rootLogger };
    const renewal = setInterval(
      () => void RequestContext.run(context, () => this.renew(queue, job.id, controller)),
      this.leaseMs / RENEWALS_PER_LEASE,
    );
    const settled = RequestContext.run(context, () => queue.perform(job, controller.signal))
      .catch(async (error: unknown) => {
        if (controller.signal.aborted) return;
        this.logger.error({ msg: 'job run failed; handing it back', queue: queue.name, jobId: job.id, err: error });
        await queue.store.release(job.id, this.workerId).catch((releaseError: unknown) => {
          this.logger.warn({ msg: 'job hand-back failed; its lease will expire', jobId: job.id, err: releaseError });
        });
      })
      .finally(() => {
        clearInterval(renewal);
        this.running.delete(key);
      });
    this.running.set(key, { queue: queue as JobQueue<QueuedJob>, id: job.id, controller, settled, context });
    const handedBack = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve()));
    return Promise.race([settled, handedBack]);
  }

  /** Shutdown: lets running jobs finish until `deadline` (epoch ms), then hands the rest back. */
  async drain(deadline: number): Promise<void> {
    const waiting = [...this.running.values()];
    if (waiting.length === 0) return;
    this.logger.log({ msg: 'waiting for running jobs', jobs: waiting.length });
    const timeout = new AbortController();
    await Promise.race([
      Promise.all(waiting.map((job) => job.settled)),
      sleep(Math.max(0, deadline - Date.now()), undefined, { signal: timeout.signal }).catch(() => undefined),
    ]);
    timeout.abort();
    await Promise.all(
      [...this.running.values()].map((job) => RequestContext.run(job.context, () => this.handBack(job))),
    );
  }

  private async handBack({ queue, id, controller }: Running): Promise<void> {
    controller.abort();
    try {
      const released = await queue.store.release(id, this.workerId);
      if (released) this.metrics.recordJob(queue.name, 'released');
      this.logger.log({ msg: 'job handed back to the queue', queue: queue.name, jobId: id, released });
    } catch (error) {
      this.logger.warn({
        msg: 'job hand-back failed; its lease will expire',
        queue: queue.name,
        jobId: id,
        err: error,
      });
    }
  }

  private async renew(queue: JobQueue<QueuedJob>, id: string, controller: AbortController): Promise<void> {
    if (controller.signal.aborted) return;
    try {
      if (await queue.store.renew(id, this.workerId, this.leaseUntil())) return;
      if (controller.signal.aborted) return;
      this.logger.warn({ msg: 'job lease lost; another worker may run it', queue: queue.name, jobId: id });
      controller.abort();
    } catch (error) {
      // The database may be briefly unreachable: the lease lasts several renewals.
      this.logger.warn({ msg: 'job lease renewal failed', queue: queue.name, jobId: id, err: error });
    }
  }
}
