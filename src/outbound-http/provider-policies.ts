import {
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  IBackoff,
  IBackoffFactory,
  IPolicy,
  IRetryBackoffContext,
  IRetryContext,
  TimeoutPolicy,
  TimeoutStrategy,
  circuitBreaker,
  fullJitterGenerator,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { CircuitStatus, ErrorClass, ProviderOptions } from './outbound-http.types';

/**
 * One failed attempt, judged. The retry and circuit policies decide from these fields alone, so
 * every error an operation throws is turned into one of these first.
 */
export class AttemptFailure extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    /** Retryable and not asking for a wait longer than we accept. */
    readonly retryable: boolean,
    cause: unknown,
  ) {
    super(`upstream attempt failed (${errorClass.outcome})`, { cause });
    this.name = 'AttemptFailure';
  }

  /** Rejections (a 4xx) say nothing about the upstream's health. */
  get countsTowardCircuit(): boolean {
    return this.errorClass.outcome !== 'rejected';
  }
}

type RetryBackoffContext = IRetryBackoffContext<unknown>;

function retryAfterOf(context: RetryBackoffContext): number | undefined {
  const { result } = context;
  return 'error' in result && result.error instanceof AttemptFailure ? result.error.errorClass.retryAfterMs : undefined;
}

/** Exponential backoff with full jitter, except that an upstream's Retry-After sets the wait. */
class RetryAfterAwareBackoff implements IBackoffFactory<RetryBackoffContext> {
  constructor(private readonly exponential: IBackoffFactory<unknown>) {}

  next(context: RetryBackoffContext): IBackoff<RetryBackoffContext> {
    return step(this.exponential.next(context), context);
  }
}

function step(exponential: IBackoff<unknown>, context: RetryBackoffContext): IBackoff<RetryBackoffContext> {
  return {
    duration: retryAfterOf(context) ?? exponential.duration,
    next: (nextContext) => step(exponential.next(nextContext), nextContext),
  };
}

const STATUS_BY_STATE: Record<CircuitState, CircuitStatus> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * The cockatiel policies of one provider, built once and shared by all its calls: the circuit
 * breaker (which must be shared to work), and retry/timeout policies per distinct call shape.
 */
export class ProviderPolicies {
  readonly breaker: CircuitBreakerPolicy;
  private openedAt = 0;
  private readonly resilience = new Map<number, IPolicy<IRetryContext>>();
  private readonly timeouts = new Map<number, TimeoutPolicy>();

  constructor(readonly options: Readonly<ProviderOptions>) {
    this.breaker = circuitBreaker(
      handleWhen((error) => error instanceof AttemptFailure && error.countsTowardCircuit),
      { halfOpenAfter: options.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.failureThreshold) },
    );
    this.breaker.onBreak(() => {
      this.openedAt = Date.now();
    });
  }

  /** Retries (outer) around the circuit breaker (inner): every attempt is seen by the breaker. */
  resilienceFor(retries: number): IPolicy<IRetryContext> {
    let policy = this.resilience.get(retries);
    if (!policy) {
      const retryPolicy = retry(
        handleWhen((error) => error instanceof AttemptFailure && error.retryable),
        {
          maxAttempts: retries,
          backoff: new RetryAfterAwareBackoff(
            new ExponentialBackoff({
              generator: fullJitterGenerator,
              initialDelay: this.options.initialDelayMs,
              maxDelay: this.options.maxDelayMs,
            }),
          ),
        },
      );
      policy = wrap(retryPolicy, this.breaker);
      this.resilience.set(retries, policy);
    }
    return policy;
  }

  /** Aggressive: the attempt fails at the deadline even if the operation ignores its signal. */
  timeoutFor(timeoutMs: number): TimeoutPolicy {
    let policy = this.timeouts.get(timeoutMs);
    if (!policy) {
      policy = timeout(timeoutMs, TimeoutStrategy.Aggressive);
      this.timeouts.set(timeoutMs, policy);
    }
    return policy;
  }

  /** Seconds until an open circuit lets a trial call through (at least 1). */
  secondsUntilHalfOpen(now: number = Date.now()): number {
    const remainingMs = this.openedAt + this.options.halfOpenAfterMs - now;
    return Math.max(1, Math.ceil(remainingMs / 1000));
  }

  get status(): CircuitStatus {
    return STATUS_BY_STATE[this.breaker.state];
  }
}
