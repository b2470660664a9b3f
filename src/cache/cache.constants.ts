/** Entries the in-process cache keeps before evicting the least recently used. */
export const MEMORY_MAX_ENTRIES = 10_000;

/** Values a replica keeps in its near cache in front of Redis (see NearCache). */
export const NEAR_MAX_ENTRIES = 10_000;
/**
 * Longest a near-cache copy lives, whatever its TTL in Redis: invalidations are announced for every
 * write and delete, and this bounds what none announces (a FLUSHDB, an eviction by Redis).
 */
export const NEAR_MAX_AGE_MS = 60_000;

/** Upper bound of one Redis command issued by the cache (a local or same-zone Redis answers in ~1 ms). */
export const REDIS_OPERATION_TIMEOUT_MS = 250;
/** Consecutive Redis failures after which the cache stops trying Redis for a while. */
export const REDIS_FAILURES_TO_BYPASS = 3;
/** While bypassed, one call probes Redis again after this long. */
export const REDIS_PROBE_AFTER_MS = 1_000;

/**
 * Single-flight lock lifetime. The leader renews it every third of this while its function runs,
 * so a slow upstream call keeps the lock and a crashed leader frees it within this time.
 */
export const LOCK_TTL_MS = 15_000;
/** Longest a follower waits on another replica's leader before computing the value itself. */
export const FOLLOWER_WAIT_MS = 60_000;
/** Followers poll for the leader's result, doubling the interval from the first to the last value. */
export const POLL_INITIAL_MS = 20;
export const POLL_MAX_MS = 250;
