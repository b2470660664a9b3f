import { decodeCursor, encodeCursor } from './keyset-cursor';

describe('analysis cursor', () => {
  const cursor = { createdAt: new Date('2030-06-01T12:00:00.123Z'), id: '0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11' };

  it('round-trips (createdAt, id) through an opaque base64url string', () => {
    const encoded = encodeCursor(cursor);

    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded)).toEqual(cursor);
  });

  it('keeps millisecond precision', () => {
    const decoded = decodeCursor(encodeCursor({ ...cursor, createdAt: new Date(1_900_000_000_001) }));
    expect(decoded?.createdAt.getTime()).toBe(1_900_000_000_001);
  });

  it('reads an upper-case id as the same id', () => {
    const encoded = Buffer.from(`${cursor.createdAt.getTime()}.${cursor.id.toUpperCase()}`).toString('base64url');
    expect(decodeCursor(encoded)).toEqual(cursor);
  });

  it.each([
    ['garbage', 'not-a-cursor!'],
    ['base64 of text', Buffer.from('hello').toString('base64url')],
    ['a non-UUID id', Buffer.from('1900000000000.abc').toString('base64url')],
    ['a missing timestamp', Buffer.from(`.${cursor.id}`).toString('base64url')],
    ['a negative timestamp', Buffer.from(`-5.${cursor.id}`).toString('base64url')],
    ['an out-of-range timestamp', Buffer.from(`999999999999999.${cursor.id}`).toString('base64url')],
    ['an over-long value', 'A'.repeat(200)],
    ['an empty string', ''],
  ])('refuses %s', (_name, encoded) => {
    expect(decodeCursor(encoded)).toBeUndefined();
  });
});
