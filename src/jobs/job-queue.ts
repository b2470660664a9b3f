/** What a queue's jobs have in common: the id of the row that is the job's source of truth. */
export interface QueuedJob {
  id: string;
}

/** A job the reconciler rings for again, and how many times it has been claimed so far. */
export interface StrandedJob {
  id: string;
  attempts: number;
}

export interface QueueStats {
  /** Jobs waiting for a worker. */
  waiting: number;
  /** Jobs a worker holds under a lease. */
  active: number;
  /** Age of the oldest unfinished job, 0 when there is none. */
  oldestAgeSeconds: number;
}

/**
 * The durable side of a queue: the rows, claimed and handed back by compare-and-set. The row is
 * the truth, the queue (BullMQ) only a doorbell; every method is safe to call twice.
 */
export interface JobStore<J extends QueuedJob> {
  /**
   * Takes the job for `workerId` until `leaseUntil` if it is waiting, or running under an expired
   * lease; undefined when someone else holds it or it is finished (drop the delivery).
   */
  claim(id: string, workerId: string, leaseUntil: Date): Promise<J | undefined>;
  /** Claims up to `limit` ready jobs, oldest first, skipping those other workers are claiming. */
  claimReady(limit: number, workerId: string, leaseUntil: Date): Promise<J[]>;
  /** Extends the lease; false once the job is no longer this worker's. */
  renew(id: string, workerId: string, leaseUntil: Date): Promise<boolean>;
  /** Hands a job this worker holds back to the queue (lease cleared); false if it no longer held it. */
  release(id: string, workerId: string): Promise<boolean>;
  /** Jobs that need a doorbell: waiting since before `waitingSince`, or running with a lease expired at `now`. */
  stranded(waitingSince: Date, now: Date, limit: number): Promise<StrandedJob[]>;
  stats(now: Date): Promise<QueueStats>;
}

/** A queue: its name (the BullMQ queue and the metrics label), its rows, and what a job does. */
export interface JobQueue<J extends QueuedJob = QueuedJob> {
  readonly name: string;
  readonly store: JobStore<J>;
  /**
   * Runs a claimed job to its end, finishing the row itself with compare-and-set transitions. When
   * `signal` aborts the job has been handed back to the queue (shutdown) or its lease was lost:
   * stop as soon as possible and change nothing more.
   */
  perform(job: J, signal: AbortSignal): Promise<void>;
  /** The request that created the job: its id is on every log line (and outbound call) of the job's runs. */
  requestIdOf?(job: J): string | undefined;
}

/**
 * Runs the jobs of registered queues: BullMQ when Redis is configured, the database otherwise
 * (JobsModule picks one). Processes whose ARGUS_ROLE runs jobs take them; every process can enqueue.
 */
export interface JobRunner {
  readonly kind: 'bullmq' | 'database';
  register<J extends QueuedJob>(queue: JobQueue<J>): void;
  /**
   * Rings the doorbell for a job whose row is already written: idempotent (the job id is the
   * doorbell's id) and never throws — a doorbell lost here is rung again by the reconciler.
   */
  enqueue(queue: string, id: string): Promise<void>;
}

export const JOB_RUNNER = Symbol('JOB_RUNNER');

/** What JobsModule drives of a runner over the process's life. */
export interface ManagedJobRunner extends JobRunner {
  readonly queues: readonly JobQueue<QueuedJob>[];
  /** Starts taking jobs (in processes whose role runs them) and, with BullMQ, the reconciler. */
  start(): void;
  /** Stops taking jobs; running ones go on until the executor's drain. */
  stop(): Promise<void>;
  /** Releases the runner's connections. */
  close(): Promise<void>;
}
