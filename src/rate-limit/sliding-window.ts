/**
 * The sliding window counter both counter stores run (in process here, in Redis as the Lua script
 * of redis-counter.store.ts, line for line): windows of `windowMs` aligned on multiples of it, one
 * count for the current window and one for the previous, and the previous one weighted by the part
 * of it the sliding window still covers. O(1) work and three numbers per counter, whatever the
 * limit — no list of hits, no timer per hit.
 *
 * A hit of `cost` is admitted when `previous × (windowMs − elapsed) + (current + cost) × windowMs ≤
 * limit × windowMs`; a refused hit is not counted. All arithmetic is on integers below 2^53
 * (limit ≤ 1 000 000, windows of minutes), so JavaScript and Redis's Lua (both IEEE doubles) give
 * the same answers for the same instants: the time is an argument, never read by the script.
 */

/** A counter's state: `current` hits in window number `window`, `previous` in the one before. */
export interface WindowState {
  window: number;
  current: number;
  previous: number;
}

/**
 * What one hit got, in milliseconds — turned into header seconds by `toDecision` for both stores:
 * `allowed` (1 or 0, as the script returns it), the hits left after it, and the time until the
 * current window ends (allowed) or until a hit of the same cost would be admitted (refused).
 */
export type HitOutcome = [allowed: number, remaining: number, waitMs: number];

/** A counted (or refused) hit, as the guards and the `X-RateLimit-*` headers read it. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Hits left in the sliding window after this one (0 when refused). */
  remaining: number;
  /** Seconds until the current window ends (allowed), or `retryAfter` (refused). */
  reset: number;
  /** Whole seconds, at least 1, until a hit of the same cost is admitted; 0 when allowed. */
  retryAfter: number;
}

/**
 * Adds a hit of `cost` to `state` (mutated only when admitted; a state of an older window is
 * rolled forward first) at `now` and says what it got.
 */
export function countHit(state: WindowState, now: number, windowMs: number, limit: number, cost: number): HitOutcome {
  const window = Math.floor(now / windowMs);
  const left = windowMs - (now - window * windowMs);
  let current = 0;
  let previous = 0;
  if (state.window === window) {
    current = state.current;
    previous = state.previous;
  } else if (state.window === window - 1) {
    previous = state.current;
  }
  if (previous * left + (current + cost) * windowMs <= limit * windowMs) {
    current += cost;
    state.window = window;
    state.current = current;
    state.previous = previous;
    return [1, Math.floor((limit * windowMs - previous * left - current * windowMs) / windowMs), left];
  }
  return [0, 0, retryAfterMs(left, current, previous, windowMs, limit, cost)];
}

/**
 * How long until a refused hit of `cost` would be admitted, if no other hit came: within this
 * window when only the previous window's weight is in the way, else in the next one (where this
 * window's hits are the weighted previous). A cost above the limit never fits: the time until the
 * counter is empty.
 */
function retryAfterMs(
  left: number,
  current: number,
  previous: number,
  windowMs: number,
  limit: number,
  cost: number,
): number {
  if (cost > limit) return left + windowMs;
  if (current + cost <= limit) {
    return Math.ceil((left * previous - (limit - current - cost) * windowMs) / previous);
  }
  return left + Math.ceil((windowMs * (current + cost - limit)) / current);
}

/** The header values of an outcome: whole seconds, rounded up, the same for both stores. */
export function toDecision([allowed, remaining, waitMs]: HitOutcome): RateLimitDecision {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return allowed === 1
    ? { allowed: true, remaining, reset: seconds, retryAfter: 0 }
    : { allowed: false, remaining: 0, reset: seconds, retryAfter: seconds };
}
