import { sign } from 'jsonwebtoken';
import { AuthenticatedUser } from '../auth.types';
import { VerifiedTokens } from './verified-tokens';

const NOW_S = 1_700_000_000;
const NOW = NOW_S * 1000;
const MAX_AGE_MS = 60_000;
const USER: AuthenticatedUser = { id: 'u-1', email: 'ada@example.com', role: 'user' };

function bearer(claims: object): string {
  return `Bearer ${sign({ iat: NOW_S, ...claims }, 'secret-for-tests-only', { algorithm: 'HS256' })}`;
}

/** A token jsonwebtoken would not sign: any claims, an unchecked signature. */
function bearerOf(claims: object): string {
  const b64 = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `Bearer ${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.c2ln`;
}

describe('VerifiedTokens', () => {
  it('answers the user of a remembered header, only for that exact header', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    const header = bearer({ exp: NOW_S + 900 });

    sut.remember(header, USER, NOW);

    expect(sut.get(header, NOW + 1_000)).toEqual(USER);
    expect(sut.get(`${header.slice(0, -1)}x`, NOW + 1_000)).toBeUndefined();
    expect(sut.get(header.replace('Bearer', 'bearer'), NOW + 1_000)).toBeUndefined();
  });

  it('forgets a header when its token expires, before the maximum age', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    const header = bearer({ exp: NOW_S + 10 });
    sut.remember(header, USER, NOW);

    expect(sut.get(header, NOW + 9_999)).toEqual(USER);
    expect(sut.get(header, NOW + 10_000)).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('forgets a long-lived token after the maximum age', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    const header = bearer({ exp: NOW_S + 86_400 });
    sut.remember(header, USER, NOW);

    expect(sut.get(header, NOW + MAX_AGE_MS - 1)).toEqual(USER);
    expect(sut.get(header, NOW + MAX_AGE_MS)).toBeUndefined();
  });

  it('keeps nothing for a token without exp, or already expired', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);

    sut.remember(bearer({}), USER, NOW);
    sut.remember(bearer({ exp: NOW_S }), USER, NOW);
    sut.remember(bearerOf({ exp: 'tomorrow' }), USER, NOW);
    sut.remember('Bearer not-a-jwt', USER, NOW);

    expect(sut.size).toBe(0);
  });

  it('hands out a frozen copy, so one request cannot change what the next one sees', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    const header = bearer({ exp: NOW_S + 900 });
    const user = { ...USER };
    sut.remember(header, user, NOW);
    user.role = 'admin';

    const remembered = sut.get(header, NOW)!;

    expect(remembered.role).toBe('user');
    expect(Object.isFrozen(remembered)).toBe(true);
  });

  it('keeps at most maxEntries headers, dropping the least recently used', () => {
    const sut = new VerifiedTokens(2, MAX_AGE_MS);
    const [a, b, c] = [1, 2, 3].map((n) => bearer({ exp: NOW_S + 900, jti: String(n) }));
    sut.remember(a, USER, NOW);
    sut.remember(b, USER, NOW);
    sut.get(a, NOW);
    sut.remember(c, USER, NOW);

    expect(sut.get(a, NOW)).toEqual(USER);
    expect(sut.get(b, NOW)).toBeUndefined();
    expect(sut.get(c, NOW)).toEqual(USER);
  });
});
