import { DISABLE_AFTER_MS, JITTER, MAX_ATTEMPTS, RETRY_DELAYS_MS, retryDelayMs } from './retry-schedule';

const HOUR = 3_600_000;

describe('webhook retry schedule', () => {
  it('makes at least 6 attempts, spread over about a day', () => {
    expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(6);
    const total = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThan(20 * HOUR);
    expect(total).toBeLessThan(30 * HOUR);
  });

  it('backs off exponentially-ish: every wait is longer than the one before or equal at the tail', () => {
    expect(RETRY_DELAYS_MS[0]).toBe(5_000);
    for (let i = 1; i < RETRY_DELAYS_MS.length; i++) {
      expect(RETRY_DELAYS_MS[i]).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i - 1]);
    }
  });

  it('jitters each wait within ±20 %', () => {
    RETRY_DELAYS_MS.forEach((base, index) => {
      const attempt = index + 1;
      expect(retryDelayMs(attempt, () => 0)).toBe(Math.round(base * (1 - JITTER)));
      expect(retryDelayMs(attempt, () => 0.5)).toBe(base);
      expect(retryDelayMs(attempt, () => 0.999999)).toBeLessThanOrEqual(Math.round(base * (1 + JITTER)));
    });
    const samples = new Set(Array.from({ length: 20 }, () => retryDelayMs(1)));
    expect(samples.size).toBeGreaterThan(1);
  });

  it('has no next attempt after the last', () => {
    expect(retryDelayMs(MAX_ATTEMPTS)).toBeUndefined();
    expect(retryDelayMs(MAX_ATTEMPTS - 1)).toBeDefined();
  });

  it('disables an endpoint after 24 hours of failures', () => {
    expect(DISABLE_AFTER_MS).toBe(24 * HOUR);
  });
});
