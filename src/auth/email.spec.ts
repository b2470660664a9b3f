import { hasInvisibleCharacters, normaliseEmail } from './email';

describe('normaliseEmail', () => {
  it.each([
    ['  Ada@Example.COM ', 'ada@example.com'],
    ['\uff41\uff44\uff41\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d', 'ada@example.com'],
    ['\ufb01n@example.com', 'fin@example.com'],
    ['ada@example.co\u2098', 'ada@example.com'],
  ])('folds %p into %p', (input, expected) => {
    expect(normaliseEmail(input)).toBe(expected);
  });
});

describe('hasInvisibleCharacters', () => {
  it.each(['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\u200f', '\u202e', '\ufeff', '\u0000', '\u0085', '\ud800'])(
    'finds %p',
    (invisible) => {
      expect(hasInvisibleCharacters(`ada${invisible}@example.com`)).toBe(true);
    },
  );

  it('finds none in a plain or an internationalised address', () => {
    expect(hasInvisibleCharacters('ada@example.com')).toBe(false);
    expect(hasInvisibleCharacters('zoë@bücher.example')).toBe(false);
  });
});
