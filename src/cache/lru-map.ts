/**
 * A Map that keeps at most `maxEntries` keys, evicting the least recently read or written one.
 * Used as the Keyv store of the in-process cache so memory stays bounded however many distinct
 * keys pass through (Keyv itself drops expired entries when they are read).
 */
export class LruMap<V> extends Map<string, V> {
  constructor(private readonly maxEntries: number) {
    super();
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  override get(key: string): V | undefined {
    if (!super.has(key)) return undefined;
    const value = super.get(key) as V;
    // Re-insert so iteration order (oldest first) reflects recency.
    super.delete(key);
    super.set(key, value);
    return value;
  }

  override set(key: string, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.maxEntries) this.evictOldest();
    return this;
  }

  private evictOldest(): void {
    const oldest = super.keys().next();
    if (!oldest.done) super.delete(oldest.value);
  }
}
