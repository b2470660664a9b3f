import { cacheKeyV1 } from '../database/migrations/1795615000300-analysis-cache-keys';
import { analysisCacheKey, AnalysisCacheKeyParts, PROMPT_VERSION, sharedCacheKey } from './analysis-cache-key';

const BASE: AnalysisCacheKeyParts = {
  sha256: 'a'.repeat(64),
  prompt: 'count the cars',
  provider: 'openai',
  model: 'gpt-4o-mini',
};

describe('analysisCacheKey', () => {
  it('is stable for the same parts and carries the prompt version', () => {
    expect(analysisCacheKey(BASE)).toBe(analysisCacheKey({ ...BASE }));
    expect(analysisCacheKey(BASE)).toMatch(new RegExp(`^analysis:${PROMPT_VERSION}:[0-9a-f]{64}$`));
  });

  it.each<[string, Partial<AnalysisCacheKeyParts>]>([
    ['upload', { sha256: 'b'.repeat(64) }],
    ['prompt', { prompt: 'count the cats' }],
    ['provider', { provider: 'local' }],
    ['model', { model: 'gpt-4o' }],
  ])('changes with the %s', (_part, change) => {
    expect(analysisCacheKey({ ...BASE, ...change })).not.toBe(analysisCacheKey(BASE));
  });

  it('tells no prompt from an empty-looking one', () => {
    expect(analysisCacheKey({ ...BASE, prompt: undefined })).not.toBe(analysisCacheKey({ ...BASE, prompt: '' }));
  });

  it('cannot be made to collide by moving characters between parts', () => {
    const a = analysisCacheKey({ ...BASE, provider: 'open', model: 'ai|gpt-4o-mini' });
    const b = analysisCacheKey({ ...BASE, provider: 'open|ai', model: 'gpt-4o-mini' });
    expect(a).not.toBe(b);
  });

  it('never contains the prompt itself', () => {
    expect(analysisCacheKey({ ...BASE, prompt: 'secret words' })).not.toContain('secret');
  });
});

describe('sharedCacheKey', () => {
  const key = analysisCacheKey(BASE);

  it('is the answer key itself in the global scope', () => {
    expect(sharedCacheKey(key, undefined)).toBe(key);
  });

  it('keeps each user to their own answers in the user scope', () => {
    expect(sharedCacheKey(key, 'user-a')).not.toBe(sharedCacheKey(key, 'user-b'));
    expect(sharedCacheKey(key, 'user-a')).not.toBe(key);
  });

  it('fits the cache_key column, and is what the jobs migration wrote for old rows while the prompt version is v1', () => {
    expect(key.length).toBeLessThanOrEqual(100);
    if (PROMPT_VERSION === 'v1') {
      expect(
        cacheKeyV1({
          id: 'x',
          sha256: BASE.sha256,
          prompt: BASE.prompt ?? null,
          provider: BASE.provider,
          model: BASE.model,
        }),
      ).toBe(key);
    }
  });
});
