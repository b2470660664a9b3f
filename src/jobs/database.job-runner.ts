import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobExecutor } from './job-executor';
import type { JobQueue, ManagedJobRunner, QueuedJob } from './job-queue';
import { POLL_INTERVAL_MS } from './jobs.constants';

/**
 * The runner without Redis: each worker process polls the jobs table and claims ready rows itself
 * (compare-and-set on SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL, see the queue's store), so
 * the table is the queue and no doorbell can be lost. A row whose worker died is ready again once
 * its lease expires, so the poll is also the reconciler. `enqueue` only wakes this process's poll.
 */
export class DatabaseJobRunner implements ManagedJobRunner {
  readonly kind = 'database';
  private readonly logger = new Logger(DatabaseJobRunner.name);
  readonly queues: JobQueue<QueuedJob>[] = [];
  /** Set by a wake-up that came while the poll was busy, so the next idle pass does not wait. */
  private woken = false;
  private sleeping: AbortController | undefined;
  private stopped = true;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly executor: JobExecutor,
    private readonly concurrency: number,
    private readonly runsJobs: boolean,
  ) {}

  register<J extends QueuedJob>(queue: JobQueue<J>): void {
    this.queues.push(queue as JobQueue<QueuedJob>);
  }

  enqueue(): Promise<void> {
    this.wake();
    return Promise.resolve();
  }

  start(): void {
    if (!this.runsJobs || !this.stopped) return;
    this.stopped = false;
    this.loop = this.poll();
  }

  /** Stops taking jobs; the running ones go on (see JobExecutor.drain). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  close(): Promise<void> {
    return this.stop();
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      for (const queue of this.queues) {
        const free = this.concurrency - this.executor.active;
        if (free <= 0 || this.stopped) break;
        claimed += await this.claimAndRun(queue, free);
      }
      if (claimed === 0 || this.executor.active >= this.concurrency) await this.idle();
    }
  }

  private async claimAndRun(queue: JobQueue<QueuedJob>, free: number): Promise<number> {
    try {
      const jobs = await queue.store.claimReady(free, this.executor.workerId, this.executor.leaseUntil());
      for (const job of jobs) void this.executor.run(queue, job).finally(() => this.wake());
      return jobs.length;
    } catch (error) {
      this.logger.warn({ msg: 'claiming jobs failed', queue: queue.name, err: error });
      return 0;
    }
  }

  /** Waits for the poll interval, or less when a job is enqueued or a slot frees up. */
  private async idle(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    this.sleeping = new AbortController();
    await sleep(POLL_INTERVAL_MS, undefined, { signal: this.sleeping.signal }).catch(() => undefined);
    this.sleeping = undefined;
    this.woken = false;
  }

  private wake(): void {
    this.woken = true;
    this.sleeping?.abort();
  }
}
