/*
 * Rotation of several AbuseIPDB keys (ABUSEIPDB_API_KEY=key1,key2,…)
 * ===================================================================
 *
 * - Keys are used in list order: the first usable key serves every call, later keys are fallbacks.
 *   When a paused key becomes usable again (its quota window reset), it is preferred again.
 * - 401 (the key is wrong or revoked): the key is paused for REJECTED_KEY_PAUSE_MS and the call moves
 *   to the next key. It is tried again after the pause, in case it was fixed upstream.
 * - 429: the key is paused until the provider says it may be used again (`X-RateLimit-Reset`, a unix
 *   time, when `X-RateLimit-Remaining` is 0: the daily quota is spent; otherwise `Retry-After`,
 *   seconds), at least MIN_PAUSE_MS and at most MAX_QUOTA_PAUSE_MS; RATE_LIMITED_DEFAULT_PAUSE_MS
 *   when the provider said nothing usable. The call moves to the next key.
 * - No usable key left: the call fails (the source shows `quota-exhausted`, stale-if-error applies).
 * Each replica keeps its own ring: at worst each replica spends one rejected call per key and pause.
 */

export const REJECTED_KEY_PAUSE_MS = 60 * 60 * 1000;
export const RATE_LIMITED_DEFAULT_PAUSE_MS = 60 * 1000;
export const MIN_PAUSE_MS = 1000;
export const MAX_QUOTA_PAUSE_MS = 25 * 60 * 60 * 1000;

export type KeyPauseReason = 'rejected' | 'quota-exhausted' | 'rate-limited';

export interface KeyLease {
  /** 0-based position in the configured list; logs and metrics name keys by `index + 1`. */
  index: number;
  key: string;
}

export interface KeyPause {
  until: number;
  reason: KeyPauseReason;
}

/** Reads one response header whatever the header container's shape or the name's case. */
export type HeaderLookup = (name: string) => string | undefined;

export class KeyRing {
  private readonly pauses: Array<KeyPause | undefined>;

  constructor(
    private readonly keys: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.pauses = keys.map(() => undefined);
  }

  get size(): number {
    return this.keys.length;
  }

  /** The first key, in list order, that is not paused now; undefined when every key is paused. */
  pick(): KeyLease | undefined {
    const now = this.now();
    for (let index = 0; index < this.keys.length; index++) {
      const pause = this.pauses[index];
      if (pause === undefined || pause.until <= now) {
        this.pauses[index] = undefined;
        return { index, key: this.keys[index] };
      }
    }
    return undefined;
  }

  /** Pauses the key after a 401. Returns the pause, for the log line. */
  reject(index: number): KeyPause {
    return this.pause(index, { until: this.now() + REJECTED_KEY_PAUSE_MS, reason: 'rejected' });
  }

  /** Pauses the key after a 429, until the provider's reset time (see the rule above). */
  rateLimited(index: number, header: HeaderLookup): KeyPause {
    return this.pause(index, pauseAfter429(header, this.now()));
  }

  /** The pause in force for the key, if any. */
  pauseOf(index: number): KeyPause | undefined {
    const pause = this.pauses[index];
    return pause !== undefined && pause.until > this.now() ? pause : undefined;
  }

  private pause(index: number, pause: KeyPause): KeyPause {
    if (index < 0 || index >= this.keys.length) throw new RangeError(`No key at index ${index}.`);
    const current = this.pauses[index];
    // Concurrent calls may report the same key; keep the longest pause.
    this.pauses[index] = current !== undefined && current.until > pause.until ? current : pause;
    return this.pauses[index] as KeyPause;
  }
}

/** When a key that got a 429 may be used again, from AbuseIPDB's headers. */
export function pauseAfter429(header: HeaderLookup, now: number): KeyPause {
  const remaining = parseNonNegativeNumber(header('x-ratelimit-remaining'));
  const quotaSpent = remaining === 0;
  const resetAt = quotaSpent ? parseResetTime(header('x-ratelimit-reset'), now) : undefined;
  const retryAfter = parseNonNegativeNumber(header('retry-after'));
  const until = resetAt ?? (retryAfter !== undefined ? now + retryAfter * 1000 : now + RATE_LIMITED_DEFAULT_PAUSE_MS);
  const bounded = Math.min(Math.max(until, now + MIN_PAUSE_MS), now + MAX_QUOTA_PAUSE_MS);
  return { until: bounded, reason: quotaSpent ? 'quota-exhausted' : 'rate-limited' };
}

/** `X-RateLimit-Reset` is a unix time in seconds; a small number is read as seconds from now. */
function parseResetTime(value: string | undefined, now: number): number | undefined {
  const seconds = parseNonNegativeNumber(value);
  if (seconds === undefined) return undefined;
  const UNIX_TIME_FLOOR = 1_000_000_000;
  return seconds >= UNIX_TIME_FLOOR ? seconds * 1000 : now + seconds * 1000;
}

function parseNonNegativeNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value.trim());
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}
