import type { Clock, CounterStore, CountRequest } from './counter-store';
import { countHit, HitOutcome, RateLimitDecision, toDecision, WindowState } from './sliding-window';

/**
 * Counters in this process (the embedded default, and the fallback while Redis is down): the
 * sliding window counter, O(1) per hit, three small integers per counter.
 *
 * Idle counters are dropped a whole generation at a time, without a timer or a sweep: a counter
 * last touched two windows ago counts nothing any more (its window and the one after are over), so
 * the counters of each window length live in two maps — touched in the current window, touched in
 * the previous one — and when the clock enters a new window the older map is let go. Memory is
 * bounded by the clients seen in the last two windows (about 110 bytes each, see
 * docs/performance.md).
 */
export class InProcessCounterStore implements CounterStore {
  private readonly byWindowLength = new Map<number, CounterGenerations>();

  constructor(private readonly now: Clock = Date.now) {}

  /** Synchronous: nothing here waits, and the guards call it on every request. */
  countAllNow(counts: readonly CountRequest[]): RateLimitDecision[] {
    return this.outcomesNow(counts).map(toDecision);
  }

  /** What each hit got, in milliseconds, as the Redis script answers (the parity spec compares them). */
  outcomesNow(counts: readonly CountRequest[]): HitOutcome[] {
    const now = this.now();
    const outcomes: HitOutcome[] = [];
    for (const { key, windowMs, limit, cost } of counts) {
      const state = this.generationsFor(windowMs).stateFor(key, Math.floor(now / windowMs));
      const outcome = countHit(state, now, windowMs, limit, cost);
      outcomes.push(outcome);
      if (outcome[0] === 0) break;
    }
    return outcomes;
  }

  countAll(counts: readonly CountRequest[]): Promise<RateLimitDecision[]> {
    return Promise.resolve(this.countAllNow(counts));
  }

  /** How many counters are held (for tests and the memory measurement). */
  get size(): number {
    let size = 0;
    for (const generations of this.byWindowLength.values()) size += generations.size;
    return size;
  }

  private generationsFor(windowMs: number): CounterGenerations {
    let generations = this.byWindowLength.get(windowMs);
    if (!generations) this.byWindowLength.set(windowMs, (generations = new CounterGenerations()));
    return generations;
  }
}

/** The counters of one window length, by the window they were last touched in. */
class CounterGenerations {
  private window = Number.MIN_SAFE_INTEGER;
  private recent = new Map<string, WindowState>();
  private older = new Map<string, WindowState>();

  get size(): number {
    return this.recent.size + this.older.size;
  }

  /** The counter of `key`, kept in the current window's map from now on. */
  stateFor(key: string, window: number): WindowState {
    if (window > this.window) this.advance(window);
    let state = this.recent.get(key);
    if (state !== undefined) return state;
    state = this.older.get(key);
    if (state !== undefined) {
      this.older.delete(key);
    } else {
      // Window -1 with no hits: rolls forward as an empty counter in any window.
      state = { window: -1, current: 0, previous: 0 };
    }
    this.recent.set(key, state);
    return state;
  }

  /** Entering `window`: what was touched before the previous window counts nothing any more. */
  private advance(window: number): void {
    this.older = window === this.window + 1 ? this.recent : new Map();
    this.recent = new Map();
    this.window = window;
  }
}
