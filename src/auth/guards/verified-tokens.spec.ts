import { VerifiedAccessToken } from '../auth.types';
import { VerifiedTokens } from './verified-tokens';

const NOW = 1_700_000_000_000;
const MAX_AGE_MS = 60_000;

function verified(expiresInMs: number, id = 'jti-1'): VerifiedAccessToken {
  return {
    user: { id: 'u-1', email: 'ada@example.com', role: 'user' },
    tokenId: id,
    issuedAtMs: NOW,
    expiresAtMs: NOW + expiresInMs,
  };
}

describe('VerifiedTokens', () => {
  it('answers a remembered token, only for that exact token text', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    sut.remember('aaa.bbb.ccc', verified(900_000), NOW);

    expect(sut.get('aaa.bbb.ccc', NOW + 1_000)?.tokenId).toBe('jti-1');
    expect(sut.get('aaa.bbb.ccx', NOW + 1_000)).toBeUndefined();
  });

  it('forgets a token when it expires, before the maximum age', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    sut.remember('t', verified(10_000), NOW);

    expect(sut.get('t', NOW + 9_999)).toBeDefined();
    expect(sut.get('t', NOW + 10_000)).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('forgets a long-lived token after the maximum age', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    sut.remember('t', verified(86_400_000), NOW);

    expect(sut.get('t', NOW + MAX_AGE_MS - 1)).toBeDefined();
    expect(sut.get('t', NOW + MAX_AGE_MS)).toBeUndefined();
  });

  it('keeps nothing for an already expired token', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    sut.remember('t', verified(0), NOW);
    expect(sut.size).toBe(0);
  });

  it('hands out a frozen copy, so one request cannot change what the next one sees', () => {
    const sut = new VerifiedTokens(10, MAX_AGE_MS);
    const token = verified(900_000);
    sut.remember('t', token, NOW);
    token.user.role = 'admin';

    const remembered = sut.get('t', NOW)!;

    expect(remembered.user.role).toBe('user');
    expect(Object.isFrozen(remembered)).toBe(true);
    expect(Object.isFrozen(remembered.user)).toBe(true);
  });

  it('keeps at most maxEntries tokens, dropping the least recently used', () => {
    const sut = new VerifiedTokens(2, MAX_AGE_MS);
    sut.remember('a', verified(900_000, 'a'), NOW);
    sut.remember('b', verified(900_000, 'b'), NOW);
    sut.get('a', NOW);
    sut.remember('c', verified(900_000, 'c'), NOW);

    expect(sut.get('a', NOW)).toBeDefined();
    expect(sut.get('b', NOW)).toBeUndefined();
    expect(sut.get('c', NOW)).toBeDefined();
  });
});
