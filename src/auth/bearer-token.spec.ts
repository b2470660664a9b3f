import { bearerToken } from './bearer-token';

describe('bearerToken', () => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

  it.each([`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer   ${token}`])('reads %p', (header) => {
    expect(bearerToken(header)).toBe(token);
  });

  it('keeps base64 padding and the token68 punctuation', () => {
    expect(bearerToken('Bearer a-b.c_d~e+f/g==')).toBe('a-b.c_d~e+f/g==');
  });

  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `Bearer${token}`,
    `Bearer ${token} junk`,
    `Bearer ${token} ${token}`,
    `Bearer ${token},${token}`,
    `Bearer ${token}\t`,
    `Basic ${token}`,
    `Token ${token}`,
    `Bearer ${token}é`,
    `Bearer ${token}=x`,
    `Bearer \u200b${token}`,
    `Bearer ${'a'.repeat(9000)}`,
  ])('refuses %p', (header) => {
    expect(bearerToken(header)).toBeUndefined();
  });
});
