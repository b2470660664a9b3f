import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { sign, SignOptions } from 'jsonwebtoken';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { QuotaService } from '../src/quota/quota.service';
import { RefreshToken } from '../src/auth/entities/refresh-token.entity';
import { User } from '../src/auth/entities/user.entity';
import { hashRefreshToken } from '../src/auth/refresh-token.service';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

const PASSWORD = 'correct horse battery staple';

interface Session {
  user: { id: string; email: string; role: string; createdAt: string };
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

/** Every credential that went over the wire: none may appear in the logs. */
const secretsSeen = new Set<string>([PASSWORD]);

function remember(session: Session): Session {
  secretsSeen.add(session.accessToken);
  secretsSeen.add(session.refreshToken);
  return session;
}

function uniqueEmail(label = 'user'): string {
  return `${label}-${randomUUID()}@example.com`;
}

/** The problem body without the fields that differ per request. */
function stable(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _requestId, instance: _instance, ...rest } = body;
  return rest;
}

function expectUnauthorized(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: 401, type: expect.any(String), requestId: expect.any(String) });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Generous per-IP limits: every request of this suite comes from 127.0.0.1. */
const SUITE_ENV = { AUTH_RATE_LIMIT_PER_MINUTE: '10000', RATE_LIMIT_PER_MINUTE: '10000', AI_DAILY_LIMIT_PER_USER: '3' };

describe(`auth (docs/api.md, Accounts and tokens) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(SUITE_ENV);
  });
  afterAll(() => t.close());

  const register = (email: string, password = PASSWORD) => t.http().post('/v1/auth/register').send({ email, password });
  const login = (email: string, password = PASSWORD) => t.http().post('/v1/auth/login').send({ email, password });
  const refresh = (refreshToken: string) => t.http().post('/v1/auth/refresh').send({ refreshToken });
  const me = (accessToken: string) => t.http().get('/v1/auth/me').set('Authorization', `Bearer ${accessToken}`);

  async function signUp(email = uniqueEmail()): Promise<Session> {
    const res = await register(email).expect(201);
    return remember(res.body as Session);
  }

  describe('happy path', () => {
    it('registers, reads /me, logs in, refreshes and logs out', async () => {
      const email = uniqueEmail('Ada');
      const registered = await register(`  ${email.toUpperCase()} `);

      expect(registered.status).toBe(201);
      expect(registered.headers['cache-control']).toBe('no-store');
      const session = remember(registered.body as Session);
      expect(session).toEqual({
        user: {
          id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
          email: email.toLowerCase(),
          role: 'user',
          createdAt: expect.any(String),
        },
        accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        expiresIn: 900,
      });
      expect(new Date(session.user.createdAt).toISOString()).toBe(session.user.createdAt);
      expect(Math.abs(Date.parse(session.user.createdAt) - Date.now())).toBeLessThan(60_000);
      expect(JSON.stringify(registered.body)).not.toMatch(/\$2[aby]\$|password/i);

      const profile = await me(session.accessToken);
      expect(profile.status).toBe(200);
      expect(profile.headers['cache-control']).toBe('no-store');
      expect(profile.body).toEqual({ ...session.user, usage: { analysesToday: 0, dailyLimit: 3 } });

      const loggedIn = await login(email);
      expect(loggedIn.status).toBe(200);
      expect(loggedIn.headers['cache-control']).toBe('no-store');
      const second = remember(loggedIn.body as Session);
      expect(second.user).toEqual(session.user);
      expect(second.refreshToken).not.toBe(session.refreshToken);
      expect(second.accessToken).not.toBe(session.accessToken);

      const refreshed = await refresh(second.refreshToken);
      expect(refreshed.status).toBe(200);
      expect(refreshed.headers['cache-control']).toBe('no-store');
      const third = remember(refreshed.body as Session);
      expect(third.user).toEqual(session.user);
      expect(third.refreshToken).not.toBe(second.refreshToken);
      await me(third.accessToken).expect(200);

      const loggedOut = await t
        .http()
        .post('/v1/auth/logout')
        .set('Authorization', `Bearer ${third.accessToken}`)
        .send({ refreshToken: third.refreshToken });
      expect(loggedOut.status).toBe(204);
      expect(loggedOut.text).toBe('');
      expectUnauthorized(await refresh(third.refreshToken));
      // The first session (another family) is untouched by that logout.
      await refresh(session.refreshToken)
        .expect(200)
        .then((res) => remember(res.body as Session));
    });

    it('stores refresh tokens only as hashes, with the configured lifetime', async () => {
      const session = await signUp();
      const rows = await t.app.get(DataSource).getRepository(RefreshToken).findBy({ userId: session.user.id });

      expect(rows).toHaveLength(1);
      expect(rows[0].tokenHash).toBe(hashRefreshToken(session.refreshToken));
      expect(JSON.stringify(rows)).not.toContain(session.refreshToken);
      const lifetimeMs = rows[0].expiresAt.getTime() - Date.now();
      expect(lifetimeMs).toBeGreaterThan(7 * 86_400_000 - 60_000);
      expect(lifetimeMs).toBeLessThanOrEqual(7 * 86_400_000);
    });
  });

  describe('validation', () => {
    it.each([
      ['a malformed email', { email: 'not-an-email', password: PASSWORD }, 'email'],
      [
        'an email over 254 characters',
        { email: `${'a'.repeat(64)}@${'b'.repeat(186)}.com`, password: PASSWORD },
        'email',
      ],
      ['an 11-character password', { email: 'eleven@example.com', password: 'a'.repeat(11) }, 'password'],
      ['a 129-character password', { email: 'long@example.com', password: 'a'.repeat(129) }, 'password'],
      ['a missing password', { email: 'missing@example.com' }, 'password'],
      ['a password that is not a string', { email: 'number@example.com', password: 123456789012 }, 'password'],
      ['an unknown field', { email: 'extra@example.com', password: PASSWORD, role: 'admin' }, 'role'],
    ])('refuses %s with 400 and errors', async (_case, body, field) => {
      const res = await t.http().post('/v1/auth/register').send(body);

      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 400, type: expect.stringMatching(/validation-failed$/) });
      expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
    });

    it('accepts a 12-character and a 128-character password', async () => {
      await register(uniqueEmail(), 'a'.repeat(12)).expect(201);
      await register(uniqueEmail(), 'ü'.repeat(128)).expect(201);
    });

    it('validates login and refresh bodies too', async () => {
      await t.http().post('/v1/auth/login').send({ email: 'x@example.com' }).expect(400);
      await t.http().post('/v1/auth/login').send({ email: 'x@example.com', password: PASSWORD, x: 1 }).expect(400);
      await t.http().post('/v1/auth/refresh').send({}).expect(400);
      await t.http().post('/v1/auth/refresh').send({ refreshToken: 'short' }).expect(400);
    });
  });

  describe('duplicates', () => {
    it('answers 409 for an email that is taken, whatever its case', async () => {
      const email = uniqueEmail();
      await register(email).expect(201);

      const again = await register(email.toUpperCase());
      expect(again.status).toBe(409);
      expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(again.body).toMatchObject({ status: 409 });
    });

    it('creates exactly one account from 10 concurrent registrations of one email', async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(Array.from({ length: 10 }, () => register(email)));
      const statuses = responses.map((res) => res.status).sort();

      expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
      await login(email).expect(200);
    });
  });

  describe('login', () => {
    it('gives an unknown email and a wrong password the same 401, in similar time', async () => {
      const email = uniqueEmail();
      await signUp(email);
      const unknownTimes: number[] = [];
      const wrongTimes: number[] = [];
      let unknown: request.Response | undefined;
      let wrong: request.Response | undefined;
      for (let i = 0; i < 5; i++) {
        let started = performance.now();
        unknown = await login(uniqueEmail('nobody'));
        unknownTimes.push(performance.now() - started);
        started = performance.now();
        wrong = await login(email, `${PASSWORD}!`);
        wrongTimes.push(performance.now() - started);
      }

      expectUnauthorized(unknown!);
      expectUnauthorized(wrong!);
      expect(stable(unknown!.body)).toEqual(stable(wrong!.body));
      expect(unknown!.headers['cache-control']).toBe(wrong!.headers['cache-control']);
      console.log(
        `login 401 median: unknown email ${median(unknownTimes).toFixed(1)} ms, ` +
          `wrong password ${median(wrongTimes).toFixed(1)} ms`,
      );
      // Both run one bcrypt comparison; a missing one would be ~100× faster.
      expect(median(unknownTimes)).toBeGreaterThan(median(wrongTimes) / 4);
    });

    it('does not let a password that only shares its first 72 bytes in', async () => {
      const email = uniqueEmail();
      const password = `${'p'.repeat(72)}-original`;
      await register(email, password).expect(201);

      await login(email, `${'p'.repeat(72)}-different`).expect(401);
      await login(email, password).expect(200);
    });

    it('re-hashes a password made at a lower cost when BCRYPT_COST was raised', async () => {
      const email = uniqueEmail();
      const { user } = await signUp(email);
      const storedHash = async (app: TestApp) => {
        const row = await app.app
          .get(DataSource)
          .getRepository(User)
          .createQueryBuilder('user')
          .addSelect('user.passwordHash')
          .where('user.id = :id', { id: user.id })
          .getOneOrFail();
        return row.passwordHash;
      };
      expect(await storedHash(t)).toMatch(/^\$2b\$10\$/);

      // A second replica of the same deployment (same database and Redis), configured with cost 11.
      const upgraded = await createTestApp({ ...SUITE_ENV, BCRYPT_COST: '11' }, { shareWith: t });
      try {
        await upgraded.http().post('/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
        expect(await storedHash(upgraded)).toMatch(/^\$2b\$11\$/);
        await upgraded.http().post('/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
      } finally {
        await upgraded.close();
      }
    });
  });

  describe('access tokens', () => {
    const secret = () => t.env.JWT_SECRET;
    let session: Session;
    let claims: Record<string, unknown>;

    beforeAll(async () => {
      session = await signUp();
      claims = { email: session.user.email, role: 'user' };
    });

    const forge = (payload: Record<string, unknown>, options: SignOptions, key: string | Buffer = secret()) =>
      sign(payload, key, options);
    const valid: SignOptions = {
      algorithm: 'HS256',
      expiresIn: 300,
      issuer: 'argus',
      audience: 'argus-api',
      jwtid: 'forged-jti',
    };
    /** The valid options with `overrides` applied and the `omit`ted ones removed. */
    const opts = (overrides: SignOptions = {}, ...omit: Array<keyof SignOptions>): SignOptions => {
      const merged: SignOptions = { subject: session.user.id, ...valid, ...overrides };
      for (const key of omit) delete merged[key];
      return merged;
    };
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

    it('accepts a token made the way the forgeries below are made, when it is valid', async () => {
      await me(forge(claims, opts())).expect(200);
    });

    const forgeries: Array<[string, () => string]> = [
      [
        'alg: none',
        () =>
          `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, sub: session.user.id, iat: now(), exp: now() + 300, iss: 'argus', aud: 'argus-api', jti: 'x' })}.`,
      ],
      ['HS512 with the right secret', () => forge(claims, opts({ algorithm: 'HS512' }))],
      ['HS384 with the right secret', () => forge(claims, opts({ algorithm: 'HS384' }))],
      ['a wrong secret', () => forge(claims, opts(), 'another-secret-that-is-long-enough-0123456789')],
      ['an RS256 signature', () => forge(claims, opts({ algorithm: 'RS256' }), rsaPrivateKeyPem())],
      ['an expired token', () => forge({ ...claims, exp: now() - 10 }, opts({}, 'expiresIn'))],
      ['a wrong audience', () => forge(claims, opts({ audience: 'someone-else' }))],
      ['a wrong issuer', () => forge(claims, opts({ issuer: 'evil' }))],
      ['a missing sub', () => forge(claims, opts({}, 'subject'))],
      ['a missing jti', () => forge(claims, opts({}, 'jwtid'))],
      ['a missing iat', () => forge(claims, opts({ noTimestamp: true }))],
      ['a missing exp', () => forge(claims, opts({}, 'expiresIn'))],
      ['a missing iss', () => forge(claims, opts({}, 'issuer'))],
      ['a missing aud', () => forge(claims, opts({}, 'audience'))],
      [
        'a tampered payload',
        () => {
          const [header, , signature] = forge(claims, opts()).split('.');
          const payload = b64({
            ...claims,
            role: 'admin',
            sub: session.user.id,
            iat: now(),
            exp: now() + 300,
            iss: 'argus',
            aud: 'argus-api',
            jti: 'x',
          });
          return `${header}.${payload}.${signature}`;
        },
      ],
      ['garbage', () => 'garbage'],
      ['three garbage segments', () => 'not.a.jwt'],
      ['a refresh token', () => session.refreshToken],
    ];

    it.each(forgeries)('refuses %s with 401 and WWW-Authenticate: Bearer', async (_case, token) => {
      expectUnauthorized(await me(token()));
    });

    it('refuses a token once it has expired, though it was accepted (and remembered) a moment before', async () => {
      const exp = now() + 2;
      const token = forge({ ...claims, exp }, opts({}, 'expiresIn'));
      await me(token).expect(200);
      await me(token).expect(200);

      await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));

      expectUnauthorized(await me(token));
    });

    it('reads tokens only from the Authorization header, as Bearer', async () => {
      expectUnauthorized(await t.http().get(`/v1/auth/me?access_token=${session.accessToken}`));
      expectUnauthorized(await t.http().get('/v1/auth/me').set('Authorization', `Token ${session.accessToken}`));
      expectUnauthorized(await t.http().get('/v1/auth/me').set('Cookie', `access_token=${session.accessToken}`));
      await me(session.accessToken).expect(200);
    });

    it('answers 401 on every protected auth route without a token', async () => {
      expectUnauthorized(await t.http().get('/v1/auth/me'));
      expectUnauthorized(await t.http().post('/v1/auth/logout').send({ refreshToken: session.refreshToken }));
      // …and the refresh token it carried still works: nothing was revoked.
      await refresh(session.refreshToken)
        .expect(200)
        .then((res) => remember(res.body as Session));
    });
  });

  describe('refresh tokens', () => {
    it('rotates: each refresh returns a new pair and spends the old token', async () => {
      const first = await signUp();
      const second = remember((await refresh(first.refreshToken).expect(200)).body as Session);

      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.user).toEqual(first.user);
      await me(second.accessToken).expect(200);
    });

    it('revokes the whole family, newest token included, when a spent token is reused', async () => {
      const first = await signUp();
      const otherDevice = remember((await login(first.user.email).expect(200)).body as Session);
      const second = remember((await refresh(first.refreshToken).expect(200)).body as Session);
      const third = remember((await refresh(second.refreshToken).expect(200)).body as Session);

      expectUnauthorized(await refresh(first.refreshToken));
      expectUnauthorized(await refresh(third.refreshToken));
      expectUnauthorized(await refresh(second.refreshToken));
      // Another sign-in (another family) is not affected.
      await refresh(otherDevice.refreshToken)
        .expect(200)
        .then((res) => remember(res.body as Session));
    });

    it('lets exactly one of two concurrent refreshes with one token through', async () => {
      const session = await signUp();
      const responses = await Promise.all([refresh(session.refreshToken), refresh(session.refreshToken)]);

      expect(responses.map((res) => res.status).sort()).toEqual([200, 401]);
      responses.filter((res) => res.status === 200).forEach((res) => remember(res.body as Session));
    });

    it('refuses a refresh token after logout', async () => {
      const session = await signUp();
      await t
        .http()
        .post('/v1/auth/logout')
        .set('Authorization', `Bearer ${session.accessToken}`)
        .send({ refreshToken: session.refreshToken })
        .expect(204);

      expectUnauthorized(await refresh(session.refreshToken));
    });

    it("does not revoke someone else's family on logout", async () => {
      const mallory = await signUp();
      const victim = await signUp();

      await t
        .http()
        .post('/v1/auth/logout')
        .set('Authorization', `Bearer ${mallory.accessToken}`)
        .send({ refreshToken: victim.refreshToken })
        .expect(204);

      await refresh(victim.refreshToken)
        .expect(200)
        .then((res) => remember(res.body as Session));
    });

    it('refuses an expired refresh token', async () => {
      const session = await signUp();
      await t.app
        .get(DataSource)
        .getRepository(RefreshToken)
        .update({ tokenHash: hashRefreshToken(session.refreshToken) }, { expiresAt: new Date(Date.now() - 1000) });

      expectUnauthorized(await refresh(session.refreshToken));
    });

    it('refuses an unknown refresh token', async () => {
      expectUnauthorized(await refresh('A'.repeat(43)));
    });
  });

  describe('daily AI quota', () => {
    it('counts per UTC day up to the limit, atomically, and reports it in /me', async () => {
      const session = await signUp();
      const quota = t.app.get(QuotaService);
      const results = await Promise.all(Array.from({ length: 8 }, () => quota.tryConsume(session.user.id)));

      expect(results.filter(Boolean)).toHaveLength(3);
      expect((await me(session.accessToken).expect(200)).body.usage).toEqual({ analysesToday: 3, dailyLimit: 3 });

      await quota.refund(session.user.id);
      await expect(quota.usageToday(session.user.id)).resolves.toEqual({ analysesToday: 2, dailyLimit: 3 });
      await expect(quota.tryConsume(session.user.id)).resolves.toBe(true);
      await expect(quota.tryConsume(session.user.id)).resolves.toBe(false);

      // Another UTC day has its own count.
      const tomorrow = new Date(Date.now() + 86_400_000);
      await expect(quota.tryConsume(session.user.id, tomorrow)).resolves.toBe(true);
      await expect(quota.usageToday(session.user.id, tomorrow)).resolves.toEqual({ analysesToday: 1, dailyLimit: 3 });
    });

    it('never refunds below zero', async () => {
      const session = await signUp();
      const quota = t.app.get(QuotaService);

      await quota.refund(session.user.id);
      await quota.tryConsume(session.user.id);
      await quota.refund(session.user.id);
      await quota.refund(session.user.id);

      await expect(quota.usageToday(session.user.id)).resolves.toEqual({ analysesToday: 0, dailyLimit: 3 });
    });
  });

  describe('docs', () => {
    it('describes every auth route, its schemas and the bearer scheme on protected ones', async () => {
      const doc = (await t.http().get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
        components: { schemas: Record<string, unknown> };
      };

      expect(doc.paths['/v1/auth/register'].post.responses['201']).toBeDefined();
      expect(doc.paths['/v1/auth/login'].post.responses['200']).toBeDefined();
      expect(doc.paths['/v1/auth/refresh'].post.responses['200']).toBeDefined();
      expect(doc.paths['/v1/auth/logout'].post.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/v1/auth/me'].get.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/v1/auth/login'].post.security).toBeUndefined();
      expect(doc.components.schemas).toHaveProperty('AuthResponse');
      expect(doc.components.schemas).toHaveProperty('MeResponse');
    });
  });

  // Runs last: everything above has written its logs by now.
  describe('logs', () => {
    it('never contain a password, a bcrypt hash or a token', () => {
      const output = t.logs.join('\n');

      expect(t.logs.length).toBeGreaterThan(50);
      expect(output).not.toMatch(/\$2[aby]\$\d\d\$/);
      for (const secret of secretsSeen) expect(output).not.toContain(secret);
      expect(output).not.toContain('p'.repeat(72));
    });
  });
});

describe('auth brute-force limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  it('limits login and register per client IP and answers 429 with Retry-After', async () => {
    const email = uniqueEmail();
    const registered = await t.http().post('/v1/auth/register').send({ email, password: PASSWORD }).expect(201);
    await t.http().post('/v1/auth/login').send({ email, password: 'wrong password!!' }).expect(401);
    await t.http().post('/v1/auth/login').send({ email, password: PASSWORD }).expect(200);

    const limited = await t.http().post('/v1/auth/login').send({ email, password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });

    const registerLimited = await t.http().post('/v1/auth/register').send({ email: uniqueEmail(), password: PASSWORD });
    expect(registerLimited.status).toBe(429);

    // The `auth` scope counts login and register only: other routes of the same client still answer.
    await t
      .http()
      .get('/v1/auth/me')
      .set('Authorization', `Bearer ${registered.body.accessToken as string}`)
      .expect(200);
  });
});

function now(): number {
  return Math.floor(Date.now() / 1000);
}

let rsaPem: string | undefined;
function rsaPrivateKeyPem(): string {
  rsaPem ??= generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return rsaPem;
}
