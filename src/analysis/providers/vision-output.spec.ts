import { MAX_TAGS, parseVisionOutput } from './vision-output';

const VALID = { summary: 'A red square.', tags: ['red', 'square'], details: { objectCount: 1 } };

describe('parseVisionOutput', () => {
  it('accepts the result schema', () => {
    expect(parseVisionOutput(JSON.stringify(VALID))).toEqual({ ok: true, result: VALID });
  });

  it('keeps any details object as it is', () => {
    const details = { objects: [{ label: 'cat', count: 2 }], text: null, nested: { deep: [1, 2] } };
    const sut = parseVisionOutput(JSON.stringify({ ...VALID, details }));
    expect(sut.ok && sut.result.details).toEqual(details);
  });

  it('trims the summary and normalises tags (trimmed, lower-case, unique, non-empty, at most 32)', () => {
    const tags = ['  Red ', 'red', '', 'SQUARE', ...Array.from({ length: 40 }, (_, i) => `t${i}`)];
    const sut = parseVisionOutput(JSON.stringify({ ...VALID, summary: '  A red square.  ', tags }));

    expect(sut.ok).toBe(true);
    if (!sut.ok) return;
    expect(sut.result.summary).toBe('A red square.');
    expect(sut.result.tags.slice(0, 3)).toEqual(['red', 'square', 't0']);
    expect(sut.result.tags).toHaveLength(MAX_TAGS);
  });

  it.each([
    ['null content', null, 'empty content'],
    ['empty content', '   ', 'empty content'],
    ['prose around JSON', 'Sure! {"summary":"x"}', 'content is not JSON'],
    ['truncated JSON', '{"summary": "a", "tags": ["red"', 'content is not JSON'],
    ['a JSON array', '[]', 'content is not a JSON object'],
    ['a missing summary', JSON.stringify({ tags: [], details: {} }), 'summary missing or empty'],
    ['a blank summary', JSON.stringify({ ...VALID, summary: ' ' }), 'summary missing or empty'],
    ['a too long summary', JSON.stringify({ ...VALID, summary: 'x'.repeat(2001) }), 'summary too long'],
    ['tags as a string', JSON.stringify({ ...VALID, tags: 'red' }), 'tags is not an array of strings'],
    ['tags with a number', JSON.stringify({ ...VALID, tags: ['red', 1] }), 'tags is not an array of strings'],
    ['details missing', JSON.stringify({ summary: 'x', tags: [] }), 'details is not an object'],
    ['details as an array', JSON.stringify({ ...VALID, details: [] }), 'details is not an object'],
    ['huge details', JSON.stringify({ ...VALID, details: { blob: 'x'.repeat(17_000) } }), 'details too large'],
    ['another schema', JSON.stringify({ description: 'a red square', labels: 'red' }), 'summary missing or empty'],
  ])('refuses %s', (_name, content, reason) => {
    expect(parseVisionOutput(content)).toEqual({ ok: false, reason });
  });
});
