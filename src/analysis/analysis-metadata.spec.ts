import { parseAnalysisMetadata } from './analysis-metadata';

describe('parseAnalysisMetadata', () => {
  it('accepts strings, numbers and booleans under valid keys', () => {
    const sut = parseAnalysisMetadata('{"album":"holidays","rating":4.5,"count":-3,"favourite":false,"a.b_c-d":""}');

    expect(sut).toEqual({
      ok: true,
      value: { album: 'holidays', rating: 4.5, count: -3, favourite: false, 'a.b_c-d': '' },
    });
  });

  it('accepts an empty object', () => {
    expect(parseAnalysisMetadata('{}')).toEqual({ ok: true, value: {} });
  });

  it.each([
    ['not JSON', '{a:1}'],
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['a number', '42'],
    ['empty', ''],
  ])('refuses %s as not a JSON object', (_name, raw) => {
    expect(parseAnalysisMetadata(raw)).toEqual({ ok: false, problems: [expect.stringContaining('JSON object')] });
  });

  it('reports every bad entry, naming its key', () => {
    const sut = parseAnalysisMetadata('{"ok":1,"bad key":1,"nested":{"a":1},"list":[1],"nothing":null}');

    expect(sut.ok).toBe(false);
    expect(!sut.ok && sut.problems).toEqual([
      '"bad key": key must match ^[a-zA-Z0-9_.-]{1,64}$',
      '"nested": values must be a string, a number or a boolean',
      '"list": values must be a string, a number or a boolean',
      '"nothing": values must be a string, a number or a boolean',
    ]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the reserved key %s', (key) => {
    const sut = parseAnalysisMetadata(`{"${key}":"x"}`);
    expect(sut).toEqual({ ok: false, problems: [`"${key}": key is reserved`] });
  });

  it('allows 64-character keys and refuses 65', () => {
    expect(parseAnalysisMetadata(JSON.stringify({ ['k'.repeat(64)]: 1 })).ok).toBe(true);
    expect(parseAnalysisMetadata(JSON.stringify({ ['k'.repeat(65)]: 1 })).ok).toBe(false);
  });

  it('allows 512-character strings and refuses 513', () => {
    expect(parseAnalysisMetadata(JSON.stringify({ a: 'x'.repeat(512) })).ok).toBe(true);
    expect(parseAnalysisMetadata(JSON.stringify({ a: 'x'.repeat(513) }))).toEqual({
      ok: false,
      problems: ['"a": string values must be at most 512 characters'],
    });
  });

  it('allows 32 keys and refuses 33', () => {
    const keys = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, true])));
    expect(parseAnalysisMetadata(keys(32)).ok).toBe(true);
    expect(parseAnalysisMetadata(keys(33))).toEqual({ ok: false, problems: ['must have at most 32 keys'] });
  });

  it('measures the 4 KiB limit in UTF-8 bytes, not characters', () => {
    const fits = JSON.stringify({ a: 'x'.repeat(500), b: 'y'.repeat(500) });
    expect(parseAnalysisMetadata(fits).ok).toBe(true);
    // 8 values of 300 "é" (2 bytes each): under 4096 characters, over 4096 bytes
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'é'.repeat(300)])));
    expect(wide.length).toBeLessThan(4096);
    expect(parseAnalysisMetadata(wide)).toEqual({ ok: false, problems: ['must be at most 4096 bytes of JSON'] });
  });

  it('refuses numbers JSON cannot hold exactly (overflow to Infinity)', () => {
    expect(parseAnalysisMetadata('{"a":1e999}')).toEqual({ ok: false, problems: ['"a": numbers must be finite'] });
  });
});
