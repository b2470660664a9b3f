import { Logger } from '@nestjs/common';
import { Job, Queue, Worker } from 'bullmq';
import type Redis from 'ioredis';
import { closeIoredis, withTimeout } from '../redis/redis-connection';
import type { RedisService } from '../redis/redis.service';
import type { JobExecutor } from './job-executor';
import type { JobQueue, ManagedJobRunner, QueuedJob } from './job-queue';
import { ENQUEUE_TIMEOUT_MS, RECONCILE_BATCH, RECONCILE_INTERVAL_MS, STRANDED_AFTER_MS } from './jobs.constants';

interface Doorbell {
  id: string;
}

interface Registered {
  definition: JobQueue<QueuedJob>;
  queue: Queue<Doorbell>;
  worker?: Worker<Doorbell>;
}

/** Takes or keeps the reconciler's turn: the holder extends it, anyone takes it once it lapsed. */
const TURN_SCRIPT = `
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/**
 * Jobs on BullMQ (Redis). A BullMQ job is only a doorbell named after the row's id (BullMQ keeps
 * one job per id, so ringing twice is harmless); the row says whether there is anything to do, and
 * a worker takes it by compare-and-set before running it. BullMQ's stalled-job check brings back
 * doorbells of dead workers, and the reconciler — one replica at a time, through a Redis turn —
 * rings again for rows whose doorbell Redis lost (flushed, restarted without persistence) or
 * whose worker died: `queued` rows older than a few seconds, `running` rows with an expired lease.
 */
export class BullMqJobRunner implements ManagedJobRunner {
  readonly kind = 'bullmq';
  private readonly logger = new Logger(BullMqJobRunner.name);
  private readonly registered = new Map<string, Registered>();
  private readonly prefix: string;
  private readonly turnKey: string;
  private connection: Redis | undefined;
  private workerConnection: Redis | undefined;
  private reconciler: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly redis: RedisService,
    private readonly executor: JobExecutor,
    private readonly concurrency: number,
    private readonly runsJobs: boolean,
  ) {
    this.prefix = redis.key('bull');
    this.turnKey = redis.key('jobs', 'reconciler');
  }

  get queues(): JobQueue<QueuedJob>[] {
    return [...this.registered.values()].map(({ definition }) => definition);
  }

  register<J extends QueuedJob>(definition: JobQueue<J>): void {
    this.connection ??= this.redis.createQueueClient('argus-jobs');
    const queue = new Queue<Doorbell>(definition.name, {
      connection: this.connection,
      prefix: this.prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    });
    queue.on('error', (error) => this.logger.warn({ msg: 'job queue error', queue: definition.name, err: error }));
    this.registered.set(definition.name, { definition: definition as JobQueue<QueuedJob>, queue });
  }

  async enqueue(name: string, id: string): Promise<void> {
    const registered = this.registered.get(name);
    if (!registered) throw new Error(`no job queue named ${name}`);
    try {
      await withTimeout(registered.queue.add(name, { id }, { jobId: id }), ENQUEUE_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn({ msg: 'enqueue failed; the reconciler will ring again', queue: name, jobId: id, err: error });
    }
  }

  start(): void {
    if (this.runsJobs) {
      this.workerConnection ??= this.redis.createQueueClient('argus-jobs-worker');
      for (const registered of this.registered.values()) registered.worker = this.startWorker(registered.definition);
    }
    this.reconciler = setInterval(() => void this.reconcile(), RECONCILE_INTERVAL_MS);
    this.reconciler.unref();
    void this.reconcile();
  }

  /** Stops taking jobs; the running ones go on (see JobExecutor.drain). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.reconciler);
    await Promise.all([...this.registered.values()].map(({ worker }) => worker?.pause(true).catch(() => undefined)));
  }

  async close(): Promise<void> {
    await this.stop();
    await Promise.all(
      [...this.registered.values()].flatMap(({ worker, queue }) => [
        worker?.close(true).catch(() => undefined),
        queue.close().catch(() => undefined),
      ]),
    );
    await Promise.all([this.connection, this.workerConnection].map((client) => client && closeIoredis(client)));
  }

  private startWorker(definition: JobQueue<QueuedJob>): Worker<Doorbell> {
    const worker = new Worker<Doorbell>(definition.name, (job) => this.process(definition, job), {
      connection: this.workerConnection!,
      prefix: this.prefix,
      concurrency: this.concurrency,
      name: this.executor.workerId,
    });
    worker.on('error', (error) => this.logger.warn({ msg: 'job worker error', queue: definition.name, err: error }));
    return worker;
  }

  private async process(definition: JobQueue<QueuedJob>, doorbell: Job<Doorbell>): Promise<void> {
    if (this.stopping) return;
    const id = doorbell.data.id;
    const job = await definition.store.claim(id, this.executor.workerId, this.executor.leaseUntil());
    if (!job) {
      this.logger.debug({ msg: 'doorbell for a job that is taken or finished', queue: definition.name, jobId: id });
      return;
    }
    await this.executor.run(definition, job);
  }

  /** One round of the reconciler, when this replica holds the turn. */
  private async reconcile(): Promise<void> {
    if (this.stopping || !(await this.holdsTurn())) return;
    const now = new Date();
    for (const { definition, queue } of this.registered.values()) {
      try {
        const stranded = await definition.store.stranded(
          new Date(now.getTime() - STRANDED_AFTER_MS),
          now,
          RECONCILE_BATCH,
        );
        if (stranded.length === 0) continue;
        await withTimeout(
          queue.addBulk(
            stranded.map(({ id, attempts }) => ({
              name: definition.name,
              data: { id },
              opts: { jobId: doorbellId(id, attempts) },
            })),
          ),
          ENQUEUE_TIMEOUT_MS,
        );
        this.logger.debug({ msg: 'reconciler rang stranded jobs', queue: definition.name, jobs: stranded.length });
      } catch (error) {
        this.logger.warn({ msg: 'reconciler round failed', queue: definition.name, err: error });
      }
    }
  }

  private async holdsTurn(): Promise<boolean> {
    const client = this.redis.client;
    if (!client || !this.redis.available) return false;
    try {
      const held = await client.eval(TURN_SCRIPT, 1, this.turnKey, this.executor.workerId, 3 * RECONCILE_INTERVAL_MS);
      return held === 1;
    } catch {
      return false;
    }
  }
}

/**
 * The doorbell of a job claimed `attempts` times so far. A job whose worker died may still have its
 * doorbell held by that worker in BullMQ (until BullMQ's own stalled check, up to a minute later),
 * and BullMQ keeps one job per id: a doorbell of its own per attempt lets the job be taken up as
 * soon as its lease (JOB_LEASE_S) has expired. The row's claim still lets one delivery run it.
 */
function doorbellId(id: string, attempts: number): string {
  return attempts === 0 ? id : `${id}.${attempts}`;
}
