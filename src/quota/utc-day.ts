const DAY_MS = 86_400_000;

/** The UTC calendar day of `at` as `YYYY-MM-DD` — the key of the daily AI quota. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Whole seconds (at least 1) until the next UTC midnight, when the daily quota starts afresh. */
export function secondsUntilNextUtcDay(at: Date): number {
  const nextMidnight = Math.floor(at.getTime() / DAY_MS) * DAY_MS + DAY_MS;
  return Math.max(1, Math.ceil((nextMidnight - at.getTime()) / 1000));
}
