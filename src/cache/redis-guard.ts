import { Logger } from '@nestjs/common';
import { CircuitBreakerPolicy, ConsecutiveBreaker, FailureReason, circuitBreaker, handleAll } from 'cockatiel';
import { withTimeout } from '../redis/redis-connection';

export type Guarded<T> = { ok: true; value: T } | { ok: false };

export interface RedisGuardOptions {
  /** Upper bound of one Redis operation; a hanging connection must not hang a request. */
  operationTimeoutMs: number;
  /** Consecutive failures after which Redis is bypassed altogether. */
  failuresToBypass: number;
  /** How long Redis stays bypassed before one call probes it again. */
  probeAfterMs: number;
}

/**
 * Runs the cache's Redis operations so that a Redis outage is never the caller's problem: each
 * operation is bounded by a timeout, and any failure comes back as `{ ok: false }` for the caller
 * to fall back to in-process behaviour. After a few consecutive failures a circuit opens and Redis
 * is skipped entirely (no per-call timeout cost while it hangs) until a probe succeeds again.
 * The outage and the recovery are each logged once, however many calls fail in between.
 */
export class RedisGuard {
  private readonly logger = new Logger(RedisGuard.name);
  private readonly breaker: CircuitBreakerPolicy;
  private readonly operationTimeoutMs: number;
  private degraded = false;

  constructor(options: RedisGuardOptions) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.probeAfterMs,
      breaker: new ConsecutiveBreaker(options.failuresToBypass),
    });
    this.breaker.onBreak((reason) => this.enterDegraded(reason));
    this.breaker.onReset(() => this.leaveDegraded());
    this.operationTimeoutMs = options.operationTimeoutMs;
  }

  /** True while Redis is being bypassed after repeated failures. */
  get isDegraded(): boolean {
    return this.degraded;
  }

  async run<T>(operation: () => Promise<T>): Promise<Guarded<T>> {
    try {
      // A timer race rather than cockatiel's timeout policy, which builds an AbortController per call
      // and aborts it when the call ends (a DOMException with a stack trace on every cache read).
      const value = await this.breaker.execute(() => withTimeout(operation(), this.operationTimeoutMs));
      return { ok: true, value };
    } catch (error) {
      if (!this.degraded) {
        this.logger.debug({ msg: 'redis cache operation failed, using in-process fallback', error: messageOf(error) });
      }
      return { ok: false };
    }
  }

  private enterDegraded(reason: FailureReason<unknown> | { isolated: true }): void {
    if (this.degraded) return;
    this.degraded = true;
    const error = 'error' in reason ? messageOf(reason.error) : undefined;
    this.logger.warn({ msg: 'redis unavailable, cache and single-flight degraded to in-process', error });
  }

  private leaveDegraded(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log({ msg: 'redis available again, cache and single-flight shared across replicas' });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
