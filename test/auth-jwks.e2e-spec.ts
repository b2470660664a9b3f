import { createHmac, randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { UserIdentity } from '../src/auth/entities/user-identity.entity';
import { User } from '../src/auth/entities/user.entity';
import { generateSigningKey, JwksFake } from './fakes/jwks-fake';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

const PASSWORD = 'correct horse battery staple';

function expectUnauthorized(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}

function uniqueEmail(label = 'idp'): string {
  return `${label}-${randomUUID()}@example.com`;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe(`external identity provider tokens (AUTH_JWKS_URL) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const idp = new JwksFake();
  let t: TestApp;

  beforeAll(async () => {
    await idp.start();
    t = await createTestApp({
      AUTH_JWKS_URL: idp.jwksUrl,
      AUTH_JWKS_ISSUER: idp.issuer,
      AUTH_JWKS_AUDIENCE: idp.audience,
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
      RATE_LIMIT_PER_MINUTE: '10000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp.close();
  });

  const me = (token: string) => t.http().get('/v1/auth/me').set('Authorization', `Bearer ${token}`);
  const users = () => t.app.get(DataSource).getRepository(User);
  const identities = () => t.app.get(DataSource).getRepository(UserIdentity);

  it('accepts an RS256 token and creates the account on first sight from sub and a verified email', async () => {
    const sub = `auth0|${randomUUID()}`;
    const email = uniqueEmail('First');

    const first = await me(idp.sign({ sub, email: email.toUpperCase(), email_verified: true }));
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      id: expect.any(String),
      email: email.toLowerCase(),
      role: 'user',
      createdAt: expect.any(String),
      usage: { analysesToday: 0, dailyLimit: 100 },
    });

    const second = await me(idp.sign({ sub, email: email.toLowerCase(), email_verified: true }));
    expect(second.body.id).toBe(first.body.id);
    await expect(identities().countBy({ issuer: idp.issuer, subject: sub })).resolves.toBe(1);
  });

  it.each([
    ['without an email claim', {}],
    ['with an invalid email', { email: 'not an email', email_verified: true }],
    ['with an unverified email', { email: 'someone@example.com' }],
  ])('creates an account without an email for a first-seen subject %s', async (_case, claims) => {
    const res = await me(idp.sign({ sub: randomUUID(), ...claims }));
    expect(res.status).toBe(200);
    expect(res.body.email).toBeNull();
  });

  it('links an account created from AUTH_JWKS_URL tokens before identities had their own table', async () => {
    const sub = `legacy|${randomUUID()}`;
    const id = randomUUID();
    await users().insert({
      id,
      email: uniqueEmail('legacy'),
      role: 'user',
      externalId: sub,
      tokensValidAfter: null,
      disabledAt: null,
      dailyLimit: null,
      createdAt: new Date(),
    });

    const res = await me(idp.sign({ sub }));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(id);
    await expect(identities().countBy({ userId: id })).resolves.toBe(1);
  });

  it('accepts an ES256 token', async () => {
    const res = await me(idp.sign({ sub: randomUUID(), email: uniqueEmail() }, {}, idp.key('ec-1')));
    expect(res.status).toBe(200);
  });

  it('creates one account when the first requests of a new subject arrive together', async () => {
    const sub = randomUUID();
    const token = idp.sign({ sub, email: uniqueEmail('together') });
    const responses = await Promise.all(Array.from({ length: 5 }, () => me(token)));

    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(responses.map((res) => res.body.id)).size).toBe(1);
    await expect(identities().countBy({ subject: sub })).resolves.toBe(1);
  });

  it('fetches the key set once and then serves keys from its cache', async () => {
    const before = idp.fetches;
    for (let i = 0; i < 5; i++) await me(idp.sign({ sub: randomUUID(), email: uniqueEmail() })).expect(200);
    expect(idp.fetches - before).toBe(0);
    expect(idp.fetches).toBeLessThanOrEqual(2);
  });

  it('picks up a key the provider rotated in (unknown kid → refetch)', async () => {
    const rotated = generateSigningKey('RS256', 'rsa-2');
    idp.publish(rotated);

    await me(idp.sign({ sub: randomUUID(), email: uniqueEmail() }, {}, rotated)).expect(200);
  });

  it('keeps accepting Argus tokens beside the provider ones', async () => {
    const registered = await t
      .http()
      .post('/v1/auth/register')
      .send({ email: uniqueEmail('local'), password: PASSWORD });
    expect(registered.status).toBe(201);
    await me(registered.body.accessToken).expect(200);
  });

  describe('refuses with 401', () => {
    const claims = () => ({ sub: randomUUID(), email: uniqueEmail() });
    const cases: Array<[string, () => string]> = [
      ['a wrong issuer', () => idp.sign(claims(), { issuer: 'https://evil.example.test/' })],
      ['a wrong audience', () => idp.sign(claims(), { audience: 'someone-else' })],
      [
        'an expired token',
        () => idp.sign({ ...claims(), exp: Math.floor(Date.now() / 1000) - 10 }, { expiresIn: undefined }),
      ],
      ['a missing sub', () => idp.sign({ email: uniqueEmail() })],
      ['a missing exp', () => idp.sign(claims(), { expiresIn: undefined })],
      ['a missing iat', () => idp.sign(claims(), { noTimestamp: true })],
      [
        'a signature by an unpublished key under a published kid',
        () => idp.sign(claims(), {}, generateSigningKey('RS256', 'rsa-1')),
      ],
      ['an unknown kid', () => idp.sign(claims(), {}, generateSigningKey('RS256', `unknown-${randomUUID()}`))],
      [
        'HS256 signed with the public key as the secret (algorithm confusion)',
        () => {
          const header = b64({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' });
          const now = Math.floor(Date.now() / 1000);
          const payload = b64({ ...claims(), iss: idp.issuer, aud: idp.audience, iat: now, exp: now + 300 });
          const pem = idp.key('rsa-1').publicKey.export({ type: 'spki', format: 'pem' }).toString();
          const signature = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
          return `${header}.${payload}.${signature}`;
        },
      ],
      [
        'alg: none',
        () => {
          const now = Math.floor(Date.now() / 1000);
          return `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64({ ...claims(), iss: idp.issuer, aud: idp.audience, iat: now, exp: now + 300 })}.`;
        },
      ],
    ];

    it.each(cases)('%s', async (_case, token) => {
      expectUnauthorized(await me(token()));
    });

  });

  it('never links a provider identity to a password account: each keeps its own account', async () => {
    const email = uniqueEmail('local-owner');
    const local = await t.http().post('/v1/auth/register').send({ email, password: PASSWORD }).expect(201);
    const sub = randomUUID();

    const viaIdp = await me(idp.sign({ sub, email, email_verified: true })).expect(200);
    expect(viaIdp.body.id).not.toBe(local.body.user.id);
    await expect(identities().countBy({ userId: local.body.user.id })).resolves.toBe(0);
  });

  it('gives a provider-only account no password: a login answers the usual 401', async () => {
    const email = uniqueEmail('no-password');
    await me(idp.sign({ sub: randomUUID(), email, email_verified: true })).expect(200);

    const viaPassword = await t.http().post('/v1/auth/login').send({ email, password: PASSWORD });
    const unknown = await t
      .http()
      .post('/v1/auth/login')
      .send({ email: uniqueEmail('nobody'), password: PASSWORD });
    expectUnauthorized(viaPassword);
    expect({ ...viaPassword.body, requestId: '' }).toEqual({ ...unknown.body, requestId: '' });
  });
});

describe('external identity provider unreachable', () => {
  let t: TestApp;
  let idp: JwksFake;

  beforeAll(async () => {
    idp = new JwksFake();
    await idp.start();
    const jwksUrl = idp.jwksUrl;
    await idp.close();
    t = await createTestApp({
      AUTH_JWKS_URL: jwksUrl,
      AUTH_JWKS_ISSUER: idp.issuer,
      AUTH_JWKS_AUDIENCE: idp.audience,
    });
  });
  afterAll(() => t?.close());

  it('answers 401 for provider tokens (never 5xx) and still serves Argus tokens', async () => {
    const token = idp.sign({ sub: randomUUID(), email: uniqueEmail() });
    expectUnauthorized(await t.http().get('/v1/auth/me').set('Authorization', `Bearer ${token}`));

    const registered = await t
      .http()
      .post('/v1/auth/register')
      .send({ email: uniqueEmail('local'), password: PASSWORD });
    expect(registered.status).toBe(201);
    await t.http().get('/v1/auth/me').set('Authorization', `Bearer ${registered.body.accessToken}`).expect(200);
  });
});
