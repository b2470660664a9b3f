import { Injectable, Logger } from '@nestjs/common';
import { BrokenCircuitError, TaskCancelledError } from 'cockatiel';
import { MetricsService, UpstreamOutcome } from '../metrics/metrics.service';
import { RequestContext } from '../common/context/request-context';
import { classifyHttpError } from './http-error.classifier';
import { buildUrl, sendRequest } from './http-request';
import {
  CircuitOpenError,
  UpstreamError,
  UpstreamRejectedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from './outbound-http.errors';
import {
  CallOptions,
  CircuitStatus,
  DEFAULT_PROVIDER_OPTIONS,
  DEFAULT_RETRIES,
  ErrorClass,
  OutboundRequest,
  OutboundResponse,
  ProviderOptions,
  UpstreamOperation,
} from './outbound-http.types';
import { AttemptFailure, ProviderPolicies } from './provider-policies';

const TIMED_OUT: ErrorClass = { retryable: true, outcome: 'timeout' };

/** What one logical call remembers across its attempts. */
interface CallTrace {
  provider: string;
  requestId?: string;
  lastFailure?: AttemptFailure;
}

/**
 * The one way upstream calls are made (DESIGN: "every external call is bounded"): a timeout per
 * attempt that really aborts the socket, retries with exponential backoff and full jitter on
 * network errors / timeouts / 429 / 5xx only (Retry-After honoured), a circuit breaker per
 * provider, one metric per logical call and `X-Request-ID` forwarded.
 */
@Injectable()
export class OutboundHttpService {
  private readonly logger = new Logger(OutboundHttpService.name);
  private readonly providers = new Map<string, ProviderPolicies>();
  private readonly overrides = new Map<string, Partial<ProviderOptions>>();

  constructor(private readonly metrics: MetricsService) {}

  /** Overrides a provider's resilience settings; its policies (and circuit state) start afresh. */
  configureProvider(provider: string, options: Partial<ProviderOptions>): void {
    this.overrides.set(provider, { ...this.overrides.get(provider), ...options });
    this.providers.delete(provider);
  }

  circuitStatus(provider: string): CircuitStatus {
    return this.providers.get(provider)?.status ?? 'closed';
  }

  /** Runs `operation` under the provider's policies; failures leave as `UpstreamError`s. */
  async execute<T>(provider: string, operation: UpstreamOperation<T>, options: CallOptions): Promise<T> {
    assertCallOptions(options);
    const policies = this.policiesFor(provider);
    const call: CallTrace = { provider, requestId: RequestContext.requestId() };
    const started = performance.now();
    try {
      // A parent signal per call: without one, cockatiel hangs every call's abort listener on one
      // shared never-aborted signal, and eleven concurrent calls make Node warn of a listener leak.
      const value = await policies
        .resilienceFor(options.retries ?? DEFAULT_RETRIES)
        .execute(
          ({ attempt, signal }) => this.attempt(policies, operation, options, call, attempt + 1, signal),
          new AbortController().signal,
        );
      this.record(provider, 'success', started);
      return value;
    } catch (error) {
      const upstreamError = this.toUpstreamError(policies, call, error);
      this.record(provider, outcomeOf(upstreamError), started);
      throw upstreamError;
    }
  }

  /** A plain HTTP call through `execute` and global `fetch`; JSON in, JSON (or text) out. */
  request(provider: string, req: OutboundRequest): Promise<OutboundResponse> {
    const url = buildUrl(req.url, req.query);
    const retryOn429 = req.retryOn429 ?? true;
    return this.execute(provider, (ctx) => sendRequest(url, req, ctx), {
      timeoutMs: req.timeoutMs,
      retries: req.retries,
      classify: (error) => classifyHttpError(error, { retryOn429 }),
    });
  }

  private async attempt<T>(
    policies: ProviderPolicies,
    operation: UpstreamOperation<T>,
    options: CallOptions,
    call: CallTrace,
    attempt: number,
    signal: AbortSignal,
  ): Promise<T> {
    try {
      return await policies
        .timeoutFor(options.timeoutMs)
        .execute((ctx) => operation({ signal: ctx.signal, attempt, requestId: call.requestId }), signal);
    } catch (error) {
      const failure = judge(error, options, policies.options.maxRetryAfterMs ?? options.timeoutMs);
      call.lastFailure = failure;
      const { outcome, status } = failure.errorClass;
      this.logger.warn({ msg: 'upstream attempt failed', provider: call.provider, attempt, outcome, status });
      throw failure;
    }
  }

  private toUpstreamError(policies: ProviderPolicies, call: CallTrace, error: unknown): UpstreamError {
    if (error instanceof AttemptFailure) return fromFailure(call.provider, error);
    if (error instanceof BrokenCircuitError) {
      // The circuit may open between two attempts of this call: the upstream's own failure is the news.
      if (call.lastFailure) return fromFailure(call.provider, call.lastFailure);
      return new CircuitOpenError(call.provider, policies.secondsUntilHalfOpen(), error);
    }
    return new UpstreamUnavailableError(call.provider, undefined, error);
  }

  private record(provider: string, outcome: UpstreamOutcome, started: number): void {
    // Refused calls never reached the upstream: keep them out of the latency histogram.
    const seconds = outcome === 'circuit_open' ? undefined : (performance.now() - started) / 1000;
    this.metrics.recordUpstream(provider, outcome, seconds);
  }

  private policiesFor(provider: string): ProviderPolicies {
    let policies = this.providers.get(provider);
    if (!policies) {
      policies = new ProviderPolicies({ ...DEFAULT_PROVIDER_OPTIONS, ...this.overrides.get(provider) });
      policies.breaker.onBreak(() => this.logger.warn({ msg: 'upstream circuit opened', provider }));
      policies.breaker.onReset(() => this.logger.log({ msg: 'upstream circuit closed', provider }));
      this.providers.set(provider, policies);
    }
    return policies;
  }
}

function assertCallOptions({ timeoutMs, retries }: CallOptions): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be > 0, got ${timeoutMs}`);
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0)) {
    throw new RangeError(`retries must be a non-negative integer, got ${retries}`);
  }
}

/** Classifies one attempt's error; a Retry-After beyond `maxRetryAfterMs` ends the call instead. */
function judge(error: unknown, options: CallOptions, maxRetryAfterMs: number): AttemptFailure {
  // Not cockatiel's isTaskCancelledError: in 3.2 it tests for the bulkhead error's marker.
  const errorClass = error instanceof TaskCancelledError ? TIMED_OUT : (options.classify ?? classifyHttpError)(error);
  const waitTooLong = errorClass.retryAfterMs !== undefined && errorClass.retryAfterMs > maxRetryAfterMs;
  return new AttemptFailure(errorClass, errorClass.retryable && !waitTooLong, error);
}

function fromFailure(provider: string, failure: AttemptFailure): UpstreamError {
  const { outcome, status, headers } = failure.errorClass;
  switch (outcome) {
    case 'timeout':
      return new UpstreamTimeoutError(provider, failure.cause);
    case 'rejected':
      return new UpstreamRejectedError(provider, status ?? 0, headers, failure.cause);
    case 'error':
      return new UpstreamUnavailableError(provider, status, failure.cause);
  }
}

function outcomeOf(error: UpstreamError): UpstreamOutcome {
  if (error instanceof CircuitOpenError) return 'circuit_open';
  if (error instanceof UpstreamTimeoutError) return 'timeout';
  if (error instanceof UpstreamRejectedError) return 'rejected';
  return 'error';
}
