import { LruMap } from './lru-map';

describe('LruMap', () => {
  it('never holds more than maxEntries keys, dropping the oldest first', () => {
    const sut = new LruMap<number>(3);

    for (let i = 1; i <= 5; i++) sut.set(`k${i}`, i);

    expect(sut.size).toBe(3);
    expect([...sut.keys()]).toEqual(['k3', 'k4', 'k5']);
  });

  it('treats a read as a use, so a recently read key survives eviction', () => {
    const sut = new LruMap<number>(2);
    sut.set('a', 1);
    sut.set('b', 2);

    expect(sut.get('a')).toBe(1);
    sut.set('c', 3);

    expect(sut.has('a')).toBe(true);
    expect(sut.has('b')).toBe(false);
  });

  it('overwrites an existing key without evicting another', () => {
    const sut = new LruMap<number>(2);
    sut.set('a', 1);
    sut.set('b', 2);

    sut.set('a', 10);

    expect(sut.size).toBe(2);
    expect(sut.get('a')).toBe(10);
    expect(sut.get('b')).toBe(2);
  });

  it('rejects a non-positive bound', () => {
    expect(() => new LruMap<number>(0)).toThrow(RangeError);
  });
});
