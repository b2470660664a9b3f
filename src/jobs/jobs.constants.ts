/** Every how often the reconciler looks for stranded jobs (and the queue metrics are refreshed). */
export const RECONCILE_INTERVAL_MS = 5_000;
/** A `queued` row older than this without a worker is rung again (its doorbell may have been lost). */
export const STRANDED_AFTER_MS = 5_000;
/** Most stranded jobs re-enqueued per reconciler round. */
export const RECONCILE_BATCH = 500;
/** The database runner looks for ready jobs this often when nothing wakes it sooner. */
export const POLL_INTERVAL_MS = 250;
/** Longest an enqueue waits for Redis before leaving the doorbell to the reconciler. */
export const ENQUEUE_TIMEOUT_MS = 2_000;
/** The lease is renewed this many times per lease period while the job runs. */
export const RENEWALS_PER_LEASE = 3;
/** Waiters of a job re-read its row this often even without a notification (a lost message). */
export const WATCH_POLL_WITH_REDIS_MS = 2_000;
export const WATCH_POLL_WITHOUT_REDIS_MS = 250;
