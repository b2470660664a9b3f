import { randomUUID } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JwksFake } from './fakes/jwks-fake';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/**
 * Identity-provider accounts (docs/api.md, "Accounts and tokens"), issue 16 item 5: an identity
 * is (iss, sub); a provider's email counts only when `email_verified` is true; a provider never
 * takes over a password account, and a password account never locks a provider user out.
 */
const PASSWORD = 'correct horse battery staple';
const SUPABASE_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const SUPABASE_ISSUER = 'https://abcdefghijklmnop.supabase.co/auth/v1';

function uniqueEmail(label: string): string {
  return `${label}-${randomUUID()}@example.com`;
}

function expectUnauthorized(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
}

/** An access token shaped like Supabase's on the legacy JWT secret (HS256). */
function supabaseToken(claims: Record<string, unknown>, secret = SUPABASE_SECRET, lifetime = 3600): string {
  const iat = Math.floor(Date.now() / 1000);
  return sign(
    {
      aud: 'authenticated',
      role: 'authenticated',
      iss: SUPABASE_ISSUER,
      iat,
      exp: iat + lifetime,
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: iat }],
      session_id: randomUUID(),
      is_anonymous: false,
      app_metadata: { provider: 'email', providers: ['email'] },
      phone: '',
      ...claims,
    },
    secret,
    { algorithm: 'HS256', header: { alg: 'HS256', typ: 'JWT' } },
  );
}

describe(`identity-provider accounts — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const idp = new JwksFake();
  let t: TestApp;

  beforeAll(async () => {
    await idp.start();
    t = await createTestApp({
      AUTH_JWKS_URL: idp.jwksUrl,
      AUTH_JWKS_ISSUER: idp.issuer,
      AUTH_JWKS_AUDIENCE: idp.audience,
      AUTH_SHARED_SECRET: SUPABASE_SECRET,
      AUTH_SHARED_ISSUER: SUPABASE_ISSUER,
      AUTH_SHARED_AUDIENCE: 'authenticated',
      AUTH_RATE_LIMIT_PER_MINUTE: '10000',
      RATE_LIMIT_PER_MINUTE: '10000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await idp.close();
  });

  const me = (token: string) => t.http().get('/v1/auth/me').set('Authorization', `Bearer ${token}`);
  const register = (email: string) => t.http().post('/v1/auth/register').send({ email, password: PASSWORD });
  const login = (email: string) => t.http().post('/v1/auth/login').send({ email, password: PASSWORD });

  describe('linking (item 5)', () => {
    it('does not lock a provider user out because a password account holds their email', async () => {
      const email = uniqueEmail('taken');
      const local = await register(email);
      expect(local.status).toBe(201);

      const viaIdp = await me(idp.sign({ sub: randomUUID(), email, email_verified: true }));

      expect(viaIdp.status).toBe(200);
      expect(viaIdp.body.id).not.toBe(local.body.user.id);
      // The provider did not take the password account over, and it did not claim its email.
      expect(viaIdp.body.email).toBeNull();
      const viaPassword = await login(email);
      expect(viaPassword.status).toBe(200);
      expect(viaPassword.body.user.id).toBe(local.body.user.id);
    });

    it('claims no email that the provider has not verified: a later registration of it succeeds', async () => {
      const email = uniqueEmail('unverified');
      const sub = randomUUID();

      const first = await me(idp.sign({ sub, email, email_verified: false }));
      expect(first.status).toBe(200);
      expect(first.body.email).toBeNull();
      const noClaim = await me(idp.sign({ sub: randomUUID(), email }));
      expect(noClaim.status).toBe(200);
      expect(noClaim.body.email).toBeNull();

      expect((await register(email)).status).toBe(201);
      const again = await me(idp.sign({ sub, email, email_verified: false }));
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
    });

    it('claims a verified email: a later password registration of it is a 409, and the provider user stays in', async () => {
      const email = uniqueEmail('Verified');
      const sub = randomUUID();

      const first = await me(idp.sign({ sub, email, email_verified: true }));
      expect(first.status).toBe(200);
      expect(first.body.email).toBe(email.toLowerCase());

      expect((await register(email)).status).toBe(409);
      const again = await me(idp.sign({ sub, email, email_verified: true }));
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
    });

    it('keys identities by (iss, sub): one sub at two providers is two accounts', async () => {
      const sub = randomUUID();
      const viaJwks = await me(idp.sign({ sub }));
      const viaShared = await me(supabaseToken({ sub }));

      expect(viaJwks.status).toBe(200);
      expect(viaShared.status).toBe(200);
      expect(viaShared.body.id).not.toBe(viaJwks.body.id);
    });

    it('creates one account and one identity when the first requests of a subject arrive together', async () => {
      const sub = randomUUID();
      const token = idp.sign({ sub, email: uniqueEmail('together'), email_verified: true });
      const responses = await Promise.all(Array.from({ length: 5 }, () => me(token)));

      expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(responses.map((res) => res.body.id)).size).toBe(1);
      const rows: unknown[] = await t.app
        .get(DataSource)
        .query(`SELECT "user_id" FROM "user_identities" WHERE "subject" = ${servicesMode ? '$1' : '?'}`, [sub]);
      expect(rows).toHaveLength(1);
    });
  });

  describe('shared-secret provider tokens (AUTH_SHARED_*, Supabase legacy JWT secret)', () => {
    it('accepts a Supabase-shaped HS256 token and keeps the account across tokens', async () => {
      const sub = randomUUID();
      const email = uniqueEmail('supa');
      const first = await me(supabaseToken({ sub, email, user_metadata: { email_verified: true } }));

      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ email, role: 'user' });
      const second = await me(supabaseToken({ sub, email, user_metadata: { email_verified: true } }));
      expect(second.body.id).toBe(first.body.id);
    });

    it('claims a Supabase email only when it is verified', async () => {
      const email = uniqueEmail('supa-unverified');
      const res = await me(supabaseToken({ sub: randomUUID(), email }));
      expect(res.status).toBe(200);
      expect(res.body.email).toBeNull();
    });

    it.each([
      ['another secret', () => supabaseToken({ sub: randomUUID() }, 'another-secret-with-at-least-32-characters-long!!')],
      ['another audience', () => supabaseToken({ sub: randomUUID(), aud: 'anon' })],
      ['another issuer', () => supabaseToken({ sub: randomUUID(), iss: 'https://evil.supabase.co/auth/v1' })],
      ['the anon key (no sub, role anon)', () => supabaseToken({ role: 'anon', aud: undefined, iss: 'supabase' })],
      ['a service_role token', () => supabaseToken({ sub: randomUUID(), role: 'service_role' })],
      ['an expired token', () => supabaseToken({ sub: randomUUID(), exp: Math.floor(Date.now() / 1000) - 5 })],
      [
        'the Argus secret used as the provider secret',
        () => supabaseToken({ sub: randomUUID() }, 'test-secret-that-is-long-enough-for-production-use-0123456789'),
      ],
    ])('refuses %s', async (_case, token) => {
      expectUnauthorized(await me(token()));
    });
  });
});
