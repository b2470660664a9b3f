import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/**
 * The admin role (docs/api.md, "Accounts and tokens"): ADMIN_EMAILS, `/v1/admin/*` answering 404
 * to anyone else, and `PATCH /v1/admin/users/:id` { role?, dailyLimit?, disabled? }.
 */
const PASSWORD = 'correct horse battery staple';
const ADMIN_LOCAL = `root-${randomUUID().slice(0, 8)}`;
const ADMIN_EMAIL = `${ADMIN_LOCAL}@example.com`;
const SUITE_ENV = {
  ADMIN_EMAILS: `someone-else@example.com, ${ADMIN_EMAIL.toUpperCase()}`,
  AUTH_RATE_LIMIT_PER_MINUTE: '10000',
  RATE_LIMIT_PER_MINUTE: '10000',
  AI_DAILY_LIMIT_PER_USER: '100',
};

interface Session {
  user: { id: string; email: string; role: string };
  accessToken: string;
  refreshToken: string;
}

function expectUnauthorized(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
}

/** A problem body without the fields that differ per request. */
function stable(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _requestId, instance: _instance, detail: _detail, ...rest } = body;
  return rest;
}

async function untilStatus(probe: () => Promise<request.Response>, status: number, deadlineMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const res = await probe();
    if (res.status === status) return;
    if (Date.now() - started > deadlineMs) throw new Error(`still ${res.status} after ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const register = (t: TestApp, email: string) => t.http().post('/v1/auth/register').send({ email, password: PASSWORD });
const login = (t: TestApp, email: string) => t.http().post('/v1/auth/login').send({ email, password: PASSWORD });
const me = (t: TestApp, token: string) => t.http().get('/v1/auth/me').set('Authorization', `Bearer ${token}`);
const patchUser = (t: TestApp, token: string | undefined, id: string, body: object, path = '/v1/admin/users') => {
  const req = t.http().patch(`${path}/${id}`);
  if (token) req.set('Authorization', `Bearer ${token}`);
  return req.send(body);
};

describe(`admin — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    t = await createTestApp(SUITE_ENV);
    // A look-alike spelling of an ADMIN_EMAILS entry is that entry.
    const res = await register(t, `  ${ADMIN_LOCAL.toUpperCase()}@EXAMPLE.COM`);
    expect(res.status).toBe(201);
    admin = res.body as Session;
  });
  afterAll(() => t?.close());

  async function signUp(): Promise<Session & { email: string }> {
    const email = `member-${randomUUID()}@example.com`;
    const res = await register(t, email);
    expect(res.status).toBe(201);
    return { ...(res.body as Session), email };
  }

  it('gives ADMIN_EMAILS accounts the admin role at registration, in their token too', async () => {
    expect(admin.user.role).toBe('admin');
    expect((await me(t, admin.accessToken)).body.role).toBe('admin');
  });

  it('gives the admin role at login to an account that registered before its email was listed', async () => {
    const email = `late-${randomUUID()}@example.com`;
    const before = await createTestApp(SUITE_ENV, { shareWith: t });
    const after = await createTestApp({ ...SUITE_ENV, ADMIN_EMAILS: email }, { shareWith: t });
    try {
      expect((await register(before, email)).body.user.role).toBe('user');
      const res = await login(after, email);
      expect(res.status).toBe(200);
      expect(res.body.user.role).toBe('admin');
    } finally {
      await after.close();
      await before.close();
    }
  });

  describe('anyone else', () => {
    it('gets 401 without a token', async () => {
      const user = await signUp();
      expectUnauthorized(await patchUser(t, undefined, user.user.id, { disabled: true }));
    });

    it('gets the 404 of an unknown route on every /v1/admin route, whatever the spelling', async () => {
      const user = await signUp();
      const unknown = await t.http().patch(`/v1/nothing-here/${user.user.id}`).set('Authorization', `Bearer ${user.accessToken}`);
      expect(unknown.status).toBe(404);

      for (const path of ['/v1/admin/users', '/v1/ADMIN/users', '/v1/Admin/Users']) {
        const res = await patchUser(t, user.accessToken, user.user.id, { role: 'admin' }, path);
        expect(res.status).toBe(404);
        expect(stable(res.body)).toEqual(stable(unknown.body));
      }
      expect((await me(t, user.accessToken)).body.role).toBe('user');
    });
  });

  describe('PATCH /v1/admin/users/:id', () => {
    it('disables an account: its tokens stop at once, sign-in is refused; re-enabling lets it sign in again', async () => {
      const user = await signUp();
      await me(t, user.accessToken).expect(200);

      const res = await patchUser(t, admin.accessToken, user.user.id, { disabled: true });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: user.user.id,
        email: user.email,
        role: 'user',
        disabled: true,
        dailyLimit: null,
        createdAt: expect.any(String),
      });

      expectUnauthorized(await me(t, user.accessToken));
      expectUnauthorized(await t.http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken }));
      expect((await login(t, user.email)).status).toBe(403);

      await patchUser(t, admin.accessToken, user.user.id, { disabled: false }).expect(200);
      expectUnauthorized(await me(t, user.accessToken));
      const again = await login(t, user.email);
      expect(again.status).toBe(200);
      await me(t, again.body.accessToken).expect(200);
    });

    it("sets and clears an account's daily AI limit, shown in /v1/auth/me", async () => {
      const user = await signUp();
      const set = await patchUser(t, admin.accessToken, user.user.id, { dailyLimit: 7 });
      expect(set.body.dailyLimit).toBe(7);
      expect((await me(t, user.accessToken)).body.usage.dailyLimit).toBe(7);

      await patchUser(t, admin.accessToken, user.user.id, { dailyLimit: null }).expect(200);
      expect((await me(t, user.accessToken)).body.usage.dailyLimit).toBe(100);
    });

    it('changes a role: the old access tokens stop, the next refresh carries the new role', async () => {
      const user = await signUp();
      await patchUser(t, admin.accessToken, user.user.id, { role: 'admin' }).expect(200);

      expectUnauthorized(await me(t, user.accessToken));
      const refreshed = await t.http().post('/v1/auth/refresh').send({ refreshToken: user.refreshToken });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.user.role).toBe('admin');
      await patchUser(t, refreshed.body.accessToken, admin.user.id, {}).expect(200);
    });

    it.each([
      ['a negative daily limit', { dailyLimit: -1 }],
      ['a fractional daily limit', { dailyLimit: 1.5 }],
      ['an unknown role', { role: 'root' }],
      ['a non-boolean disabled', { disabled: 'yes' }],
      ['an unknown property', { email: 'x@example.com' }],
    ])('refuses %s with 400 and changes nothing', async (_case, body) => {
      const user = await signUp();
      const res = await patchUser(t, admin.accessToken, user.user.id, body);
      expect(res.status).toBe(400);
      await me(t, user.accessToken).expect(200);
    });

    it('answers 400 for an id that is not a UUID and 404 for an unknown one', async () => {
      expect((await patchUser(t, admin.accessToken, 'not-a-uuid', { disabled: true })).status).toBe(400);
      expect((await patchUser(t, admin.accessToken, randomUUID(), { disabled: true })).status).toBe(404);
    });

    it('is described in the OpenAPI document with the bearer scheme', async () => {
      const doc = (await t.http().get('/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
      const operation = doc.paths['/v1/admin/users/{id}']?.patch as { security?: unknown[]; responses: object };
      expect(operation).toBeDefined();
      expect(operation.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
    });
  });
});

const describeReplicas = servicesMode && process.env.TEST_REDIS_URL ? describe : describe.skip;

describeReplicas('disabling an account across two replicas', () => {
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

  it("stops the account's tokens on the other replica within a second", async () => {
    const admin = (await register(a, ADMIN_EMAIL)).body as Session;
    const user = (await register(a, `member-${randomUUID()}@example.com`)).body as Session;
    await me(b, user.accessToken).expect(200);

    await patchUser(a, admin.accessToken, user.user.id, { disabled: true }).expect(200);

    await untilStatus(() => me(b, user.accessToken), 401, 1000);
  });
});
