import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/**
 * Sign-out that signs out (docs/api.md, "Accounts and tokens"): logout revokes the access token it
 * was called with, logout-all every session of the account, on every replica within a second.
 */
const PASSWORD = 'correct horse battery staple';
const SUITE_ENV = { AUTH_RATE_LIMIT_PER_MINUTE: '10000', RATE_LIMIT_PER_MINUTE: '10000' };

interface Session {
  user: { id: string; email: string };
  accessToken: string;
  refreshToken: string;
}

function expectUnauthorized(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
}

/** Polls `probe` until it answers `status`; fails when that takes longer than `deadlineMs`. */
async function untilStatus(probe: () => Promise<request.Response>, status: number, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const res = await probe();
    if (res.status === status) return;
    if (Date.now() - started > deadlineMs) throw new Error(`still ${res.status} after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function signUp(t: TestApp): Promise<{ email: string; session: Session }> {
  const email = `signout-${randomUUID()}@example.com`;
  const res = await t.http().post('/v1/auth/register').send({ email, password: PASSWORD });
  expect(res.status).toBe(201);
  return { email, session: res.body as Session };
}

async function login(t: TestApp, email: string): Promise<Session> {
  const res = await t.http().post('/v1/auth/login').send({ email, password: PASSWORD });
  expect(res.status).toBe(200);
  return res.body as Session;
}

const me = (t: TestApp, token: string) => t.http().get('/v1/auth/me').set('Authorization', `Bearer ${token}`);
const logout = (t: TestApp, session: Session) =>
  t.http().post('/v1/auth/logout').set('Authorization', `Bearer ${session.accessToken}`).send({ refreshToken: session.refreshToken });
const logoutAll = (t: TestApp, token: string) =>
  t.http().post('/v1/auth/logout-all').set('Authorization', `Bearer ${token}`);
const refresh = (t: TestApp, refreshToken: string) => t.http().post('/v1/auth/refresh').send({ refreshToken });

describe(`sign-out — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(SUITE_ENV);
  });
  afterAll(() => t?.close());

  it('logout revokes the access token it was called with, though it was verified (and remembered) before', async () => {
    const { email, session } = await signUp(t);
    const other = await login(t, email);
    await me(t, session.accessToken).expect(200);
    await me(t, session.accessToken).expect(200);

    await logout(t, session).expect(204);

    expectUnauthorized(await me(t, session.accessToken));
    expectUnauthorized(await refresh(t, session.refreshToken));
    // Another session of the same account is untouched.
    await me(t, other.accessToken).expect(200);
    await refresh(t, other.refreshToken).expect(200);
  });

  it('logout-all signs out every session: every access token issued before, every refresh token', async () => {
    const { email, session } = await signUp(t);
    const second = await login(t, email);
    await me(t, second.accessToken).expect(200);

    const res = await logoutAll(t, session.accessToken);
    expect(res.status).toBe(204);
    expect(res.headers['cache-control']).toBe('no-store');

    for (const s of [session, second]) {
      expectUnauthorized(await me(t, s.accessToken));
      expectUnauthorized(await refresh(t, s.refreshToken));
    }
  });

  it('lets a sign-in right after logout-all work, in the same second', async () => {
    const { email, session } = await signUp(t);
    await logoutAll(t, session.accessToken).expect(204);

    const fresh = await login(t, email);
    await me(t, fresh.accessToken).expect(200);
    await refresh(t, fresh.refreshToken).expect(200);
  });

  it('answers 401 on logout and logout-all without a valid token, and revokes nothing', async () => {
    const { session } = await signUp(t);
    expectUnauthorized(await t.http().post('/v1/auth/logout-all'));
    expectUnauthorized(await t.http().post('/v1/auth/logout-all').set('Authorization', 'Bearer not.a.token'));
    expectUnauthorized(await t.http().post('/v1/auth/logout').send({ refreshToken: session.refreshToken }));
    await me(t, session.accessToken).expect(200);
  });

  it('keeps a revocation across a restart (it is stored, not only in memory)', async () => {
    const { session } = await signUp(t);
    await logout(t, session).expect(204);

    const restarted = await createTestApp(SUITE_ENV, { shareWith: t });
    try {
      expectUnauthorized(await me(restarted, session.accessToken));
    } finally {
      await restarted.close();
    }
  });
});

const describeReplicas = servicesMode && process.env.TEST_REDIS_URL ? describe : describe.skip;

describeReplicas('sign-out across two replicas sharing PostgreSQL and Redis', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp(SUITE_ENV);
    b = await createTestApp(SUITE_ENV, { shareWith: a });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('logout on replica A stops the access token on replica B within a second', async () => {
    const { session } = await signUp(a);
    // B has verified (and remembered) the token before the logout.
    await me(b, session.accessToken).expect(200);

    await logout(a, session).expect(204);

    await untilStatus(() => me(b, session.accessToken), 401, 1000);
  });

  it('logout-all on replica A stops every access token on replica B within a second', async () => {
    const { email, session } = await signUp(a);
    const second = await login(b, email);
    await me(b, session.accessToken).expect(200);
    await me(b, second.accessToken).expect(200);

    await logoutAll(a, session.accessToken).expect(204);

    await untilStatus(() => me(b, session.accessToken), 401, 1000);
    await untilStatus(() => me(b, second.accessToken), 401, 1000);
  });
});
