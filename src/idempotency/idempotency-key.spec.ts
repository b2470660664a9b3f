import { IDEMPOTENCY_KEY_MAX_LENGTH, readIdempotencyKey } from './idempotency-key';

describe('readIdempotencyKey', () => {
  const read = (value: string | string[] | undefined) => readIdempotencyKey({ 'idempotency-key': value });

  it('treats an absent header as "no idempotency"', () => {
    expect(read(undefined)).toEqual({ ok: true, key: undefined });
    expect(readIdempotencyKey({})).toEqual({ ok: true, key: undefined });
  });

  it.each([
    ['one character', 'a'],
    ['a UUID', '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b'],
    [
      'every visible ASCII character',
      Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join(''),
    ],
    ['255 characters', 'k'.repeat(IDEMPOTENCY_KEY_MAX_LENGTH)],
  ])('accepts %s', (_name, value) => {
    expect(read(value)).toEqual({ ok: true, key: value });
  });

  it.each([
    ['an empty value', '', /empty/],
    ['256 characters', 'k'.repeat(IDEMPOTENCY_KEY_MAX_LENGTH + 1), /at most 255/],
    ['a space', 'order 42', /visible ASCII/],
    ['a tab', 'order\t42', /visible ASCII/],
    ['a control character', 'order\u000142', /visible ASCII/],
    ['DEL (0x7F)', 'order\u007f', /visible ASCII/],
    ['a non-ASCII letter', 'clé', /visible ASCII/],
    ['a latin-1 byte as Node decodes it', 'key\u00ff', /visible ASCII/],
    ['an emoji', 'key-\u{1F600}', /visible ASCII/],
    ['two keys joined by Node', 'a, b', /visible ASCII/],
  ])('refuses %s', (_name, value, problem) => {
    const sut = read(value);
    expect(sut.ok).toBe(false);
    expect(!sut.ok && sut.problem).toMatch(problem);
  });

  it('refuses a header given as several values', () => {
    expect(read(['a', 'b'])).toEqual({ ok: false, problem: 'must be sent once' });
  });
});
