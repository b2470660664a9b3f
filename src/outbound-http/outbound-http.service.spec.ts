import { Logger } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { RequestContext } from '../common/context/request-context';
import { HttpStatusError } from './http-error.classifier';
import {
  CircuitOpenError,
  UpstreamRejectedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from './outbound-http.errors';
import { OutboundHttpService } from './outbound-http.service';
import { CallOptions, ErrorClass, OperationContext } from './outbound-http.types';

/** A scripted operation: each call takes the next step (an error to throw or a value to return). */
function scripted<T>(...steps: Array<{ fail: unknown } | { value: T }>) {
  const calls: Array<OperationContext & { at: number }> = [];
  const operation = async (ctx: OperationContext): Promise<T> => {
    calls.push({ ...ctx, at: Date.now() });
    const next = steps[Math.min(calls.length, steps.length) - 1];
    if ('fail' in next) throw next.fail;
    return next.value;
  };
  return { operation, calls };
}

const status = (code: number, headers: Record<string, string> = {}) => ({
  fail: new HttpStatusError(code, new Headers(headers)),
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('OutboundHttpService', () => {
  let metrics: MetricsService;
  let recordUpstream: jest.SpyInstance;
  let warn: jest.SpyInstance;
  let sut: OutboundHttpService;
  const fast: CallOptions = { timeoutMs: 1000 };

  beforeEach(() => {
    metrics = new MetricsService();
    recordUpstream = jest.spyOn(metrics, 'recordUpstream');
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    sut = new OutboundHttpService(metrics);
    sut.configureProvider('p', { initialDelayMs: 1, maxDelayMs: 5 });
  });

  afterEach(() => jest.restoreAllMocks());

  describe('success', () => {
    it('returns the value, records one success with a duration, and passes attempt and signal', async () => {
      const { operation, calls } = scripted({ value: 42 });

      await expect(sut.execute('p', operation, fast)).resolves.toBe(42);

      expect(calls).toHaveLength(1);
      expect(calls[0].attempt).toBe(1);
      expect(calls[0].signal).toBeInstanceOf(AbortSignal);
      expect(recordUpstream).toHaveBeenCalledTimes(1);
      expect(recordUpstream).toHaveBeenCalledWith('p', 'success', expect.any(Number));
    });

    it('hands the request context correlation id to the operation', async () => {
      const { operation, calls } = scripted({ value: 'ok' });

      await RequestContext.run({ requestId: 'req-7' }, () => sut.execute('p', operation, fast));

      expect(calls[0].requestId).toBe('req-7');
    });

    it('leaves requestId undefined outside a request', async () => {
      const { operation, calls } = scripted({ value: 'ok' });
      await sut.execute('p', operation, fast);
      expect(calls[0].requestId).toBeUndefined();
    });
  });

  describe('concurrency', () => {
    it('hangs no more than a few abort listeners on any one signal, however many calls run at once', async () => {
      // Node warns of a listener leak past ten on one EventTarget; the warning itself does not reach
      // Jest's sandboxed process, so count what causes it.
      const listeners = new Map<EventTarget, number>();
      let most = 0;
      const add = EventTarget.prototype.addEventListener;
      const remove = EventTarget.prototype.removeEventListener;
      jest.spyOn(EventTarget.prototype, 'addEventListener').mockImplementation(function (this: EventTarget, ...args) {
        const count = (listeners.get(this) ?? 0) + 1;
        listeners.set(this, count);
        most = Math.max(most, count);
        return add.apply(this, args);
      });
      jest.spyOn(EventTarget.prototype, 'removeEventListener').mockImplementation(function (
        this: EventTarget,
        ...args
      ) {
        listeners.set(this, (listeners.get(this) ?? 1) - 1);
        return remove.apply(this, args);
      });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const calls = Array.from({ length: 25 }, () =>
        sut.execute(
          'p',
          async () => {
            await gate;
            return 1;
          },
          fast,
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
      open();
      await expect(Promise.all(calls)).resolves.toHaveLength(25);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(10);
    });
  });

  describe('retries', () => {
    it('retries 5xx and succeeds, numbering attempts from 1, with one success metric', async () => {
      const { operation, calls } = scripted(status(500), status(503), { value: 'ok' });

      await expect(sut.execute('p', operation, fast)).resolves.toBe('ok');

      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      expect(recordUpstream).toHaveBeenCalledTimes(1);
      expect(recordUpstream).toHaveBeenCalledWith('p', 'success', expect.any(Number));
    });

    it('makes 1 + retries attempts (default 2) and then throws UpstreamUnavailableError', async () => {
      const { operation, calls } = scripted(status(502));

      const error = await failure(sut.execute('p', operation, fast));

      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect((error as UpstreamUnavailableError).upstreamStatus).toBe(502);
      expect(calls).toHaveLength(3);
      expect(recordUpstream).toHaveBeenCalledTimes(1);
      expect(recordUpstream).toHaveBeenCalledWith('p', 'error', expect.any(Number));
    });

    it.each([0, 1, 4])('honours retries: %p', async (retries) => {
      const { operation, calls } = scripted(status(500));
      await failure(sut.execute('p', operation, { ...fast, retries }));
      expect(calls).toHaveLength(retries + 1);
    });

    it.each([400, 401, 403, 404, 422])('never retries a %p and throws UpstreamRejectedError with it', async (code) => {
      const { operation, calls } = scripted(status(code, { 'x-ratelimit-remaining': '3' }));

      const error = await failure(sut.execute('p', operation, fast));

      expect(error).toBeInstanceOf(UpstreamRejectedError);
      expect((error as UpstreamRejectedError).status).toBe(code);
      expect((error as UpstreamRejectedError).headers?.get('x-ratelimit-remaining')).toBe('3');
      expect(calls).toHaveLength(1);
      expect(recordUpstream).toHaveBeenCalledWith('p', 'rejected', expect.any(Number));
    });

    it('does not retry errors the classifier does not know', async () => {
      const { operation, calls } = scripted({ fail: new Error('bug in the operation') });

      const error = await failure(sut.execute('p', operation, fast));

      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect(calls).toHaveLength(1);
    });

    it('uses the caller classifier', async () => {
      const classify = jest.fn((): ErrorClass => ({ retryable: true, outcome: 'error' }));
      const { operation, calls } = scripted({ fail: new Error('custom') }, { value: 1 });

      await sut.execute('p', operation, { ...fast, classify });

      expect(classify).toHaveBeenCalledTimes(1);
      expect(calls).toHaveLength(2);
    });

    it('waits the Retry-After before the next attempt', async () => {
      const { operation, calls } = scripted(status(429, { 'retry-after-ms': '300' }), { value: 'ok' });

      await sut.execute('p', operation, fast);

      expect(calls).toHaveLength(2);
      expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(290);
    });

    it('fails at once when Retry-After exceeds the budget instead of waiting', async () => {
      const { operation, calls } = scripted(status(429, { 'retry-after': '3600' }), { value: 'ok' });
      const started = Date.now();

      const error = await failure(sut.execute('p', operation, fast));

      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect((error as UpstreamUnavailableError).upstreamStatus).toBe(429);
      expect(calls).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(500);
    });

    it('caps Retry-After by maxRetryAfterMs when configured', async () => {
      sut.configureProvider('p', { maxRetryAfterMs: 100 });
      const { operation, calls } = scripted(status(503, { 'retry-after': '1' }), { value: 'ok' });

      await failure(sut.execute('p', operation, { timeoutMs: 5000 }));

      expect(calls).toHaveLength(1);
    });
  });

  describe('timeouts', () => {
    it('aborts the attempt signal at the deadline and throws UpstreamTimeoutError after the retries', async () => {
      const signals: AbortSignal[] = [];
      const hang = (ctx: OperationContext) => {
        signals.push(ctx.signal);
        return new Promise<never>(() => undefined);
      };

      const error = await failure(sut.execute('p', hang, { timeoutMs: 30, retries: 1 }));

      expect(error).toBeInstanceOf(UpstreamTimeoutError);
      expect(signals).toHaveLength(2);
      expect(signals.every((signal) => signal.aborted)).toBe(true);
      expect(recordUpstream).toHaveBeenCalledWith('p', 'timeout', expect.any(Number));
    });

    it('reports a timeout as the domain code that becomes a 504', async () => {
      const error = await failure(
        sut.execute('p', () => new Promise<never>(() => undefined), { timeoutMs: 20, retries: 0 }),
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe(ErrorCode.UpstreamTimeout);
    });
  });

  describe('circuit breaker', () => {
    beforeEach(() => {
      sut.configureProvider('p', { failureThreshold: 3, halfOpenAfterMs: 150 });
    });

    it('opens after N consecutive failed attempts and then refuses without calling the operation', async () => {
      const { operation, calls } = scripted(status(500));
      for (let i = 0; i < 3; i++) await failure(sut.execute('p', operation, { ...fast, retries: 0 }));
      expect(calls).toHaveLength(3);

      const error = await failure(sut.execute('p', operation, fast));

      expect(error).toBeInstanceOf(CircuitOpenError);
      expect((error as CircuitOpenError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect((error as CircuitOpenError).code).toBe(ErrorCode.UpstreamUnavailable);
      expect(calls).toHaveLength(3);
      expect(sut.circuitStatus('p')).toBe('open');
      expect(recordUpstream).toHaveBeenLastCalledWith('p', 'circuit_open', undefined);
    });

    it('counts each attempt, and reports the upstream failure when the circuit opens mid-call', async () => {
      const { operation, calls } = scripted(status(503));

      const error = await failure(sut.execute('p', operation, { ...fast, retries: 5 }));

      expect(calls).toHaveLength(3);
      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect(recordUpstream).toHaveBeenCalledWith('p', 'error', expect.any(Number));
    });

    it('reports time until half-open as retryAfterSeconds', async () => {
      sut.configureProvider('p', { halfOpenAfterMs: 30_000 });
      const { operation } = scripted(status(500));
      for (let i = 0; i < 3; i++) await failure(sut.execute('p', operation, { ...fast, retries: 0 }));

      const error = (await failure(sut.execute('p', operation, fast))) as CircuitOpenError;

      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(29);
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(30);
    });

    it('lets a trial call through after halfOpenAfter and closes on success', async () => {
      const { operation, calls } = scripted(status(500), status(500), status(500), { value: 'back' });
      for (let i = 0; i < 3; i++) await failure(sut.execute('p', operation, { ...fast, retries: 0 }));

      const value = await pollUntilNotOpen(() => sut.execute('p', operation, { ...fast, retries: 0 }), 2000);

      expect(value).toBe('back');
      expect(calls).toHaveLength(4);
      expect(sut.circuitStatus('p')).toBe('closed');
    });

    it('does not count 4xx rejections toward the circuit', async () => {
      const { operation, calls } = scripted(status(404));
      for (let i = 0; i < 6; i++) await failure(sut.execute('p', operation, fast));

      expect(calls).toHaveLength(6);
      expect(sut.circuitStatus('p')).toBe('closed');
    });

    it('counts timeouts toward the circuit', async () => {
      const hang = () => new Promise<never>(() => undefined);
      for (let i = 0; i < 3; i++) await failure(sut.execute('p', hang, { timeoutMs: 10, retries: 0 }));

      await expect(sut.execute('p', hang, { timeoutMs: 10 })).rejects.toBeInstanceOf(CircuitOpenError);
    });

    it('keeps one circuit per provider', async () => {
      const broken = scripted(status(500));
      for (let i = 0; i < 3; i++) await failure(sut.execute('p', broken.operation, { ...fast, retries: 0 }));
      const healthy = scripted({ value: 'fine' });

      await expect(sut.execute('other', healthy.operation, fast)).resolves.toBe('fine');
      expect(sut.circuitStatus('other')).toBe('closed');
      expect(sut.circuitStatus('p')).toBe('open');
    });
  });

  describe('logs and errors', () => {
    it('logs each failed attempt with provider, attempt, outcome and status only', async () => {
      const { operation } = scripted(status(500), status(429), { value: 'ok' });

      await sut.execute('p', operation, fast);

      expect(warn).toHaveBeenCalledWith({
        msg: 'upstream attempt failed',
        provider: 'p',
        attempt: 1,
        outcome: 'error',
        status: 500,
      });
      expect(warn).toHaveBeenCalledWith({
        msg: 'upstream attempt failed',
        provider: 'p',
        attempt: 2,
        outcome: 'error',
        status: 429,
      });
    });

    it('keeps the original error as cause and says nothing of it in the message', async () => {
      const secret = new Error('GET https://api.example/check?key=SECRET said {"raw":"body"}');
      const { operation } = scripted({ fail: secret });

      const error = (await failure(sut.execute('p', operation, fast))) as UpstreamUnavailableError;

      expect(error.cause).toBe(secret);
      expect(error.message).not.toMatch(/SECRET|https?:|raw/);
      expect(error.provider).toBe('p');
    });

    it('rejects invalid call options before calling anything', async () => {
      const { operation, calls } = scripted({ value: 1 });
      await expect(sut.execute('p', operation, { timeoutMs: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(sut.execute('p', operation, { timeoutMs: 10, retries: -1 })).rejects.toBeInstanceOf(RangeError);
      expect(calls).toHaveLength(0);
    });
  });
});

/** Calls `fn` until it stops answering CircuitOpenError, or fails at the deadline. */
async function pollUntilNotOpen<T>(fn: () => Promise<T>, deadlineMs: number): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof CircuitOpenError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
