import { MemoryStore } from './memory-store';

describe('MemoryStore', () => {
  let now: number;
  const setUp = (maxEntries = 3) => new MemoryStore(maxEntries, () => now);
  beforeEach(() => (now = 1_000_000));

  it('answers a value until its TTL has passed, then forgets it', () => {
    const sut = setUp();
    sut.set('k', { a: 1 }, 500);
    now += 499;
    expect(sut.get('k')).toEqual({ a: 1 });
    now += 1;
    expect(sut.get('k')).toBeUndefined();
  });

  it('evicts the least recently used key past its bound', () => {
    const sut = setUp(2);
    sut.set('a', 1, 1000);
    sut.set('b', 2, 1000);
    expect(sut.get('a')).toBe(1);
    sut.set('c', 3, 1000);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')).toBe(1);
    expect(sut.get('c')).toBe(3);
  });

  it('answers a copy: changing what was read changes nothing cached', () => {
    const sut = setUp();
    sut.set('k', { tags: ['a'] }, 1000);
    sut.get<{ tags: string[] }>('k')?.tags.push('b');
    expect(sut.get('k')).toEqual({ tags: ['a'] });
  });

  it('deletes, and a miss is undefined', () => {
    const sut = setUp();
    sut.set('a', 1, 1000);
    sut.delete('a');
    expect(sut.get('a')).toBeUndefined();
    expect(sut.get('never')).toBeUndefined();
  });
});
