import { LruMap } from './lru-map';

interface NearEntry {
  /** The value as JSON: every read parses its own copy, so callers cannot change the cache. */
  json: string;
  /** Epoch ms after which the entry is gone: the Redis entry's expiry, capped by `maxAgeMs`. */
  expiresAt: number;
}

/**
 * A replica's in-process copy of values it has read from Redis, so a hot key costs no round trip.
 * It mirrors Redis only while it hears every change: it is live while the replica is subscribed to
 * the cache's invalidation channel, and `invalidate` runs for each key another replica writes or
 * deletes there. Losing the subscription empties it (`suspend`), since changes may be missed.
 *
 * A read racing a write can return the old value after the invalidation was handled; `generation`
 * guards that: a fill is dropped when any invalidation arrived since its read began. `maxAgeMs`
 * bounds what no message announces (a FLUSHDB, an eviction by Redis's maxmemory policy).
 */
export class NearCache {
  private readonly entries: LruMap<NearEntry>;
  private live = false;
  private invalidations = 0;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
  ) {
    this.entries = new LruMap<NearEntry>(maxEntries);
  }

  /** Changes with every invalidation; read it before the Redis read a fill comes from. */
  get generation(): number {
    return this.invalidations;
  }

  get isLive(): boolean {
    return this.live;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A fresh copy of the value, or undefined when absent, expired or not live. */
  get<T>(key: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return JSON.parse(entry.json) as T;
  }

  /**
   * Keeps a value read from Redis with its expiry there (epoch ms; undefined: none), unless the
   * cache is not live or an invalidation arrived since `generation` was read.
   */
  fill(key: string, value: unknown, expires: number | undefined, generation: number, now = Date.now()): void {
    if (!this.live || generation !== this.invalidations) return;
    const expiresAt = Math.min(expires ?? Infinity, now + this.maxAgeMs);
    if (expiresAt <= now) return;
    this.entries.set(key, { json: JSON.stringify(value), expiresAt });
  }

  invalidate(key: string): void {
    this.invalidations += 1;
    this.entries.delete(key);
  }

  /** Subscribed: from now on every change is heard. */
  resume(): void {
    this.live = true;
  }

  /** Subscription lost: nothing kept can be trusted, and nothing is kept until `resume`. */
  suspend(): void {
    this.live = false;
    this.invalidations += 1;
    this.entries.clear();
  }
}
