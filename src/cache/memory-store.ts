import { LruMap } from './lru-map';

interface Entry {
  json: string;
  expiresAt: number;
}

/**
 * The in-process cache (no REDIS_URL, or Redis unreachable): at most `maxEntries` values, least
 * recently used evicted, each dropped when read after its TTL. Values are kept as JSON text and
 * parsed on each read, so a caller that changes what it got never changes the cache. Keyv over a
 * Map did the same through @keyv/serialize's reviving parser and several async layers: 3.7 % of a
 * cached lookup's CPU on the embedded default (`--cpu-prof`, docs/performance.md); plain
 * `JSON.parse`, synchronously, is what the Redis path already used.
 */
export class MemoryStore {
  private readonly entries: LruMap<Entry>;

  constructor(
    maxEntries: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.entries = new LruMap<Entry>(maxEntries);
  }

  get<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return JSON.parse(entry.json) as T;
  }

  set(key: string, value: unknown, ttlMs: number): void {
    this.entries.set(key, { json: JSON.stringify(value), expiresAt: this.now() + ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
