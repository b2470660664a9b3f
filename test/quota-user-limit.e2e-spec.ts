import { randomUUID } from 'node:crypto';
import { OutboundHttpService } from '../src/outbound-http/outbound-http.service';
import { AnalysisSuite, expectProblem, openAiEnv, startAnalysisSuite } from './analyses-test-kit';
import { OpenAiFake } from './fakes/openai-fake';
import { uniqueJpeg } from './fixtures/images';
import { bearer, RegisteredUser } from './support/auth';
import { servicesMode } from './support/test-app';

/**
 * An account's own daily AI limit (`PATCH /v1/admin/users/:id { dailyLimit }`, docs/api.md) is the
 * one the uploads are held to, instead of AI_DAILY_LIMIT_PER_USER — lower, higher or 0 — and the
 * one `/v1/auth/me` reports; null gives the account the default back.
 */
const DEFAULT_LIMIT = 2;
const ADMIN_EMAIL = `quota-admin-${randomUUID().slice(0, 8)}@example.com`;

describe(`Image analysis — an account's own daily AI limit — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new OpenAiFake();
  let s: AnalysisSuite;
  let admin: RegisteredUser;

  beforeAll(async () => {
    await fake.start();
    s = await startAnalysisSuite({
      ...openAiEnv(fake, 1000),
      AI_DAILY_LIMIT_PER_USER: String(DEFAULT_LIMIT),
      ADMIN_EMAILS: ADMIN_EMAIL,
    });
    const res = await s.t.http().post('/v1/auth/register').send({ email: ADMIN_EMAIL, password: randomUUID() });
    expect(res.status).toBe(201);
    expect(res.body.user.role).toBe('admin');
    admin = { userId: res.body.user.id, email: ADMIN_EMAIL, accessToken: res.body.accessToken };
  });
  afterAll(async () => {
    await s?.t.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    s.t.app
      .get(OutboundHttpService, { strict: false })
      .configureProvider('openai', {
        initialDelayMs: 10,
        maxDelayMs: 50,
        failureThreshold: 50,
        halfOpenAfterMs: 30_000,
      });
  });

  const setLimit = async (user: RegisteredUser, dailyLimit: number | null) => {
    const res = await s.t
      .http()
      .patch(`/v1/admin/users/${user.userId}`)
      .set(bearer(admin))
      .send({ dailyLimit })
      .expect(200);
    expect(res.body.dailyLimit).toBe(dailyLimit);
  };
  const usage = async (user: RegisteredUser) => (await s.get('/v1/auth/me', user).expect(200)).body.usage;

  it('holds an account to a limit below the default: the second distinct image is 429', async () => {
    const user = await s.newUser();
    await setLimit(user, 1);

    await s.upload(await uniqueJpeg(), {}, user).expect(201);
    const refused = await s.upload(await uniqueJpeg(), {}, user);

    expectProblem(refused, 429, 'quota-exceeded');
    expect(refused.body.detail).toContain('quota of 1 used up');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(fake.callCount).toBe(1);
    expect(await usage(user)).toEqual({ analysesToday: 1, dailyLimit: 1 });
  });

  it('lets an account with a limit above the default go past the default, up to its own', async () => {
    const user = await s.newUser();
    await setLimit(user, DEFAULT_LIMIT + 2);

    for (let i = 0; i < DEFAULT_LIMIT + 2; i++) await s.upload(await uniqueJpeg(), {}, user).expect(201);
    const refused = await s.upload(await uniqueJpeg(), {}, user);
    expectProblem(refused, 429, 'quota-exceeded');
    expect(refused.body.detail).toContain(`quota of ${DEFAULT_LIMIT + 2} used up`);

    expect(fake.callCount).toBe(DEFAULT_LIMIT + 2);
    expect(await usage(user)).toEqual({ analysesToday: DEFAULT_LIMIT + 2, dailyLimit: DEFAULT_LIMIT + 2 });
  });

  it('gives an account with limit 0 no AI analysis at all, synchronous or queued', async () => {
    const user = await s.newUser();
    await setLimit(user, 0);

    expectProblem(await s.upload(await uniqueJpeg(), {}, user), 429, 'quota-exceeded');
    expectProblem(await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }, user), 429, 'quota-exceeded');

    expect(fake.callCount).toBe(0);
    expect(await usage(user)).toEqual({ analysesToday: 0, dailyLimit: 0 });
  });

  it('applies a new limit to what is already used today, and null gives the default back', async () => {
    const user = await s.newUser();
    await s.upload(await uniqueJpeg(), {}, user).expect(201);
    await setLimit(user, 1);
    expectProblem(await s.upload(await uniqueJpeg(), {}, user), 429, 'quota-exceeded');

    await setLimit(user, null);
    expect(await usage(user)).toEqual({ analysesToday: 1, dailyLimit: DEFAULT_LIMIT });
    await s.upload(await uniqueJpeg(), {}, user).expect(201);
    expectProblem(await s.upload(await uniqueJpeg(), {}, user), 429, 'quota-exceeded');
    expect(fake.callCount).toBe(DEFAULT_LIMIT);
  });
});
