import {
  HeaderLookup,
  KeyRing,
  MAX_QUOTA_PAUSE_MS,
  MIN_PAUSE_MS,
  pauseAfter429,
  RATE_LIMITED_DEFAULT_PAUSE_MS,
  REJECTED_KEY_PAUSE_MS,
} from './abuseipdb-key-ring';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

function headers(values: Record<string, string>): HeaderLookup {
  const lower = Object.fromEntries(Object.entries(values).map(([name, value]) => [name.toLowerCase(), value]));
  return (name) => lower[name.toLowerCase()];
}

describe('KeyRing', () => {
  let now: number;
  let sut: KeyRing;

  beforeEach(() => {
    now = T0;
    sut = new KeyRing(['first', 'second', 'third'], () => now);
  });

  it('uses the first key while it works', () => {
    expect(sut.pick()).toEqual({ index: 0, key: 'first' });
    expect(sut.pick()).toEqual({ index: 0, key: 'first' });
  });

  it('moves past a rejected key and keeps it out for the long pause', () => {
    const pause = sut.reject(0);
    expect(pause).toEqual({ until: T0 + REJECTED_KEY_PAUSE_MS, reason: 'rejected' });
    expect(sut.pick()).toEqual({ index: 1, key: 'second' });
    now = T0 + REJECTED_KEY_PAUSE_MS - 1;
    expect(sut.pick()?.index).toBe(1);
    now = T0 + REJECTED_KEY_PAUSE_MS;
    expect(sut.pick()?.index).toBe(0);
    expect(sut.pauseOf(0)).toBeUndefined();
  });

  it('pauses a key whose quota is spent until the reset time, then prefers it again', () => {
    const resetUnix = Math.floor(T0 / 1000) + 3600;
    const pause = sut.rateLimited(
      0,
      headers({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(resetUnix), 'Retry-After': '3600' }),
    );
    expect(pause).toEqual({ until: resetUnix * 1000, reason: 'quota-exhausted' });
    expect(sut.pick()?.index).toBe(1);
    now = resetUnix * 1000;
    expect(sut.pick()?.index).toBe(0);
  });

  it('answers undefined once every key is paused', () => {
    sut.reject(0);
    sut.rateLimited(1, headers({ 'X-RateLimit-Remaining': '0', 'Retry-After': '60' }));
    sut.reject(2);
    expect(sut.pick()).toBeUndefined();
    now = T0 + 60_000;
    expect(sut.pick()?.index).toBe(1);
  });

  it('keeps the longer pause when two calls report the same key', () => {
    sut.reject(0);
    sut.rateLimited(0, headers({ 'Retry-After': '5' }));
    expect(sut.pauseOf(0)).toEqual({ until: T0 + REJECTED_KEY_PAUSE_MS, reason: 'rejected' });
  });

  it('has no key to give when none is configured', () => {
    expect(new KeyRing([]).pick()).toBeUndefined();
  });

  it('refuses to pause a key that does not exist', () => {
    expect(() => sut.reject(3)).toThrow(RangeError);
  });
});

describe('pauseAfter429', () => {
  const sut = pauseAfter429;

  it('reads X-RateLimit-Reset as a unix time when the quota is spent', () => {
    const resetUnix = Math.floor(T0 / 1000) + 7200;
    expect(sut(headers({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(resetUnix) }), T0)).toEqual({
      until: resetUnix * 1000,
      reason: 'quota-exhausted',
    });
  });

  it('reads a small X-RateLimit-Reset as seconds from now', () => {
    expect(sut(headers({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '90' }), T0).until).toBe(T0 + 90_000);
  });

  it('uses Retry-After for a short-term limit while quota remains', () => {
    expect(sut(headers({ 'X-RateLimit-Remaining': '12', 'Retry-After': '30' }), T0)).toEqual({
      until: T0 + 30_000,
      reason: 'rate-limited',
    });
  });

  it('falls back to a default pause when the provider says nothing usable', () => {
    expect(sut(headers({ 'Retry-After': 'soon' }), T0)).toEqual({
      until: T0 + RATE_LIMITED_DEFAULT_PAUSE_MS,
      reason: 'rate-limited',
    });
  });

  it('bounds the pause on both sides', () => {
    expect(sut(headers({ 'Retry-After': '0' }), T0).until).toBe(T0 + MIN_PAUSE_MS);
    const farReset = String(Math.floor(T0 / 1000) + 10 * 86_400);
    expect(sut(headers({ 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': farReset }), T0).until).toBe(
      T0 + MAX_QUOTA_PAUSE_MS,
    );
  });
});
