import { ConfigService } from '@nestjs/config';
import { decode, sign, verify } from 'jsonwebtoken';
import { AppConfig } from '../config/config.types';
import { AccessTokenService, hasRegisteredClaims, userFromAccessClaims } from './access-token.service';
import { AuthenticatedUser } from './auth.types';

const settings = {
  jwtSecret: 'unit-test-secret-that-is-at-least-32-bytes-long',
  accessTtlSeconds: 900,
  issuer: 'argus',
  audience: 'argus-api',
};
const expected = { issuer: settings.issuer, audience: settings.audience };
const user: AuthenticatedUser = { id: '0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e', email: 'ada@example.com', role: 'user' };
const NOW = 1_800_000_000;

function validClaims(): Record<string, unknown> {
  return {
    sub: user.id,
    email: user.email,
    role: user.role,
    iat: NOW - 10,
    exp: NOW + 890,
    iss: 'argus',
    aud: 'argus-api',
    jti: '9f1c0a52-8d43-4c1e-9c0e-6a2b1f3d4e5f',
  };
}

describe('AccessTokenService', () => {
  const sut = new AccessTokenService(new ConfigService<AppConfig, true>({ auth: settings }));

  it('keeps the secret as a KeyObject built once', () => {
    expect(sut.key.type).toBe('secret');
    expect(sut.key.symmetricKeySize).toBe(Buffer.byteLength(settings.jwtSecret));
  });

  it('signs HS256 tokens carrying every required claim plus email and role', () => {
    const { accessToken, expiresIn } = sut.issue(user);

    const complete = decode(accessToken, { complete: true });
    expect(complete?.header.alg).toBe('HS256');
    const claims = verify(accessToken, sut.key, { algorithms: ['HS256'] }) as Record<string, unknown>;
    expect(claims).toEqual({
      sub: user.id,
      email: user.email,
      role: 'user',
      iss: 'argus',
      aud: 'argus-api',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);
    expect(expiresIn).toBe(900);
  });

  it('gives every token its own jti', () => {
    const first = decode(sut.issue(user).accessToken) as Record<string, unknown>;
    const second = decode(sut.issue(user).accessToken) as Record<string, unknown>;
    expect(first.jti).not.toBe(second.jti);
  });

  it('reads the user back from the claims of its own token', () => {
    const claims = verify(sut.issue(user).accessToken, sut.key, { algorithms: ['HS256'] });
    expect(sut.userFromClaims(claims)).toEqual(user);
  });
});

describe('userFromAccessClaims', () => {
  it('accepts a complete, current token', () => {
    expect(userFromAccessClaims(validClaims(), expected, NOW)).toEqual(user);
  });

  it('accepts an audience list that contains ours', () => {
    expect(userFromAccessClaims({ ...validClaims(), aud: ['other', 'argus-api'] }, expected, NOW)).toEqual(user);
  });

  it.each(['sub', 'iat', 'exp', 'jti', 'iss', 'aud', 'email', 'role'])('refuses a token without %s', (claim) => {
    const claims = validClaims();
    delete claims[claim];
    expect(userFromAccessClaims(claims, expected, NOW)).toBeNull();
  });

  it.each([
    ['another issuer', { iss: 'evil' }],
    ['another audience', { aud: 'other-api' }],
    ['an audience list without ours', { aud: ['a', 'b'] }],
    ['an expired exp', { exp: NOW }],
    ['an iat in the future', { iat: NOW + 3600 }],
    ['a non-numeric exp', { exp: '9999999999' }],
    ['an empty sub', { sub: '' }],
    ['a numeric sub', { sub: 42 }],
    ['an unknown role', { role: 'root' }],
    ['an empty jti', { jti: '' }],
  ])('refuses %s', (_case, override) => {
    expect(userFromAccessClaims({ ...validClaims(), ...override }, expected, NOW)).toBeNull();
  });

  it.each([null, undefined, 'a string', 42, ['array']])('refuses a payload that is not an object: %p', (payload) => {
    expect(userFromAccessClaims(payload, expected, NOW)).toBeNull();
  });
});

describe('hasRegisteredClaims', () => {
  it('needs no email, role or jti (external provider tokens)', () => {
    const { sub, iat, exp, iss, aud } = validClaims();
    expect(hasRegisteredClaims({ sub, iat, exp, iss, aud }, expected, NOW)).toBe(true);
  });

  it('is what jsonwebtoken alone would miss: a validly signed token without exp', () => {
    const key = Buffer.from(settings.jwtSecret);
    const noExp = sign({ sub: user.id, iss: 'argus', aud: 'argus-api' }, key, { algorithm: 'HS256' });
    const claims = verify(noExp, key, { algorithms: ['HS256'], issuer: 'argus', audience: 'argus-api' });

    expect(claims).toBeTruthy();
    expect(hasRegisteredClaims(claims, expected)).toBe(false);
  });
});
