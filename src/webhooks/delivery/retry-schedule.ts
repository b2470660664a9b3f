const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * How long to wait after failed attempt n (index n − 1) before the next: the Standard Webhooks
 * reference schedule. Eight attempts over about 27.6 hours; after the last, the delivery failed.
 */
export const RETRY_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** ± this share of each delay is random, so endpoints that failed together do not retry together. */
export const JITTER = 0.2;

/** An endpoint whose attempts all failed for this long is disabled (docs/api.md, Webhooks). */
export const DISABLE_AFTER_MS = 24 * HOUR;

/** The wait after failed attempt `attempt` (1-based), jittered; undefined when it was the last. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number | undefined {
  const base = RETRY_DELAYS_MS[attempt - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}
