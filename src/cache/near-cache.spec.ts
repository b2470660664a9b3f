import { NearCache } from './near-cache';

const NOW = 1_700_000_000_000;
const MAX_AGE_MS = 60_000;

function liveCache(maxEntries = 10): NearCache {
  const cache = new NearCache(maxEntries, MAX_AGE_MS);
  cache.resume();
  return cache;
}

describe('NearCache', () => {
  it('keeps what it is given while live and answers a fresh copy each time', () => {
    const sut = liveCache();
    sut.fill('k', { score: 1, tags: ['a'] }, NOW + 1_000, sut.generation, NOW);

    const first = sut.get<{ score: number; tags: string[] }>('k', NOW);
    first!.tags.push('mutated');

    expect(sut.get('k', NOW)).toEqual({ score: 1, tags: ['a'] });
  });

  it('keeps nothing before it is live', () => {
    const sut = new NearCache(10, MAX_AGE_MS);

    sut.fill('k', 1, NOW + 1_000, sut.generation, NOW);

    expect(sut.get('k', NOW)).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('forgets an entry when its Redis expiry passes', () => {
    const sut = liveCache();
    sut.fill('k', 1, NOW + 1_000, sut.generation, NOW);

    expect(sut.get('k', NOW + 999)).toBe(1);
    expect(sut.get('k', NOW + 1_000)).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('keeps an entry no longer than maxAgeMs, however long Redis keeps it', () => {
    const sut = liveCache();
    sut.fill('long', 1, NOW + 3_600_000, sut.generation, NOW);
    sut.fill('forever', 2, undefined, sut.generation, NOW);

    expect(sut.get('long', NOW + MAX_AGE_MS - 1)).toBe(1);
    expect(sut.get('long', NOW + MAX_AGE_MS)).toBeUndefined();
    expect(sut.get('forever', NOW + MAX_AGE_MS)).toBeUndefined();
  });

  it('does not keep a value that has already expired', () => {
    const sut = liveCache();

    sut.fill('k', 1, NOW - 1, sut.generation, NOW);

    expect(sut.size).toBe(0);
  });

  it('drops an invalidated key and leaves the others', () => {
    const sut = liveCache();
    sut.fill('a', 1, NOW + 1_000, sut.generation, NOW);
    sut.fill('b', 2, NOW + 1_000, sut.generation, NOW);

    sut.invalidate('a');

    expect(sut.get('a', NOW)).toBeUndefined();
    expect(sut.get('b', NOW)).toBe(2);
  });

  it('drops a fill whose read began before an invalidation (a read racing a write)', () => {
    const sut = liveCache();
    const generation = sut.generation; // the read starts...
    sut.invalidate('k'); // ...another replica writes k and announces it...

    sut.fill('k', 'old value', NOW + 1_000, generation, NOW); // ...the read returns the old value.

    expect(sut.get('k', NOW)).toBeUndefined();
    sut.fill('k', 'new value', NOW + 1_000, sut.generation, NOW);
    expect(sut.get('k', NOW)).toBe('new value');
  });

  it('empties itself and keeps nothing while suspended, and fills again once resumed', () => {
    const sut = liveCache();
    sut.fill('k', 1, NOW + 1_000, sut.generation, NOW);

    sut.suspend();
    sut.fill('k', 1, NOW + 1_000, sut.generation, NOW);

    expect(sut.isLive).toBe(false);
    expect(sut.get('k', NOW)).toBeUndefined();
    sut.resume();
    sut.fill('k', 2, NOW + 1_000, sut.generation, NOW);
    expect(sut.get('k', NOW)).toBe(2);
  });

  it('holds at most maxEntries values', () => {
    const sut = liveCache(2);

    for (const key of ['a', 'b', 'c']) sut.fill(key, key, NOW + 1_000, sut.generation, NOW);

    expect(sut.size).toBe(2);
    expect(sut.get('a', NOW)).toBeUndefined();
    expect(sut.get('c', NOW)).toBe('c');
  });
});
