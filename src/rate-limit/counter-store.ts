import type { RateLimitDecision } from './sliding-window';

/** One counter to add a hit to: its key, its sliding window, its limit and what the hit costs. */
export interface CountRequest {
  key: string;
  windowMs: number;
  limit: number;
  /** Hits this request counts for (1, or the extra addresses of a bulk lookup). */
  cost: number;
}

/**
 * Where counters live: Redis (shared by replicas) or this process. Both run the sliding window
 * counter of sliding-window.ts and give the same decisions for the same hits at the same instants.
 */
export interface CounterStore {
  /**
   * Adds a hit to each counter in order and stops at the first refused one, so a request refused
   * by one limit is not counted by the next (nor by the refusing one): the decisions answer a
   * prefix of `counts`, and only the last may be refused.
   */
  countAll(counts: readonly CountRequest[]): Promise<RateLimitDecision[]>;
}

/** The process's CounterStore (RateLimitModule picks Redis with an in-process fallback, or in process). */
export const COUNTER_STORE = Symbol('COUNTER_STORE');

/** The clock the stores count by; tests pass their own. */
export type Clock = () => number;
