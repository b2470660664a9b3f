import sharp from 'sharp';
import { OpenAiFake } from './fakes/openai-fake';
import { freshPublicIp, ipPath } from './ip-test-kit';
import { bearer, registerUser } from './support/auth';
import { IpEnrichmentService } from '../src/ip/enrichment/ip-enrichment.service';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/**
 * Two replicas of one deployment (two app instances on one PostgreSQL and one Redis) behave like
 * one. Needs the shared services: in embedded mode each instance has its own in-process state.
 */
const describeServices = servicesMode && process.env.TEST_REDIS_URL ? describe : describe.skip;
if (!servicesMode) console.warn('replica tests skipped: they need TEST_DATABASE_URL and TEST_REDIS_URL');

describeServices('two replicas sharing PostgreSQL and Redis', () => {
  const openai = new OpenAiFake();
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    await openai.start();
    const env = {
      AI_PROVIDER: 'openai',
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      IP_RATE_LIMIT_PER_MINUTE: '4',
      ANALYSIS_RATE_LIMIT_PER_MINUTE: '100',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
      RATE_LIMIT_PER_MINUTE: '10000',
    };
    a = await createTestApp(env);
    b = await createTestApp(env, { shareWith: a });
    // The IP datasets load on the event loop after boot (~2 s of CPU, longer on busy cores): let that
    // finish first, or Redis calls made meanwhile time out and single-flight falls back per process.
    await Promise.all([a, b].map((replica) => replica.app.get(IpEnrichmentService).ready()));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await openai.close();
  });

  it('shares a per-user limit instead of doubling it', async () => {
    const user = await registerUser(a);
    const statuses: number[] = [];
    for (const replica of [a, b, a, b, a, b]) {
      statuses.push((await replica.http().get('/v1/ip/8.8.4.4').set(bearer(user))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('answers on one replica with a report filed through the other at once', async () => {
    const user = await registerUser(a);
    const ip = freshPublicIp();
    const localSource = (res: { body: { sources: { provider: string }[] } }) =>
      res.body.sources.find((source) => source.provider === 'local');
    await a.http().get(ipPath(ip)).set(bearer(user)).expect(200);
    const cached = await b.http().get(ipPath(ip)).set(bearer(user)).expect(200); // b keeps a near copy
    expect(cached.body.cached).toBe(true);
    expect(localSource(cached)).toMatchObject({ totalReports: 0 });

    await a.http().post(ipPath(ip, '/reports')).set(bearer(user)).send({ categories: [18] }).expect(201);

    const after = await b.http().get(ipPath(ip)).set(bearer(user)).expect(200);
    expect(after.body.cached).toBe(false);
    expect(localSource(after)).toMatchObject({ totalReports: 1 });
  });

  it('makes one upstream AI call for concurrent identical uploads split across both', async () => {
    const user = await registerUser(a);
    const image = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#3a7' } })
      .jpeg()
      .toBuffer();
    openai.reset();
    openai.delay(400);
    const uploads = Array.from({ length: 6 }, (_, i) =>
      (i % 2 ? b : a)
        .http()
        .post('/v1/analyses')
        .set(bearer(user))
        .attach('file', image, { filename: 'same.jpg', contentType: 'image/jpeg' }),
    );
    const responses = await Promise.all(uploads);
    expect(responses.map((res) => res.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(openai.callCount).toBe(1);
    expect(responses.filter((res) => res.body.cached === false)).toHaveLength(1);
    expect(new Set(responses.map((res) => res.body.sha256)).size).toBe(1);
  });

  it('refuses on one replica a refresh-token family revoked through the other', async () => {
    const registered = await a
      .http()
      .post('/v1/auth/register')
      .send({ email: `replica-${Date.now()}@example.com`, password: 'replica-password-1' })
      .expect(201);
    const first = registered.body.refreshToken as string;
    const rotated = await a.http().post('/v1/auth/refresh').send({ refreshToken: first }).expect(200);
    // Reusing the spent token on the other replica revokes the family...
    await b.http().post('/v1/auth/refresh').send({ refreshToken: first }).expect(401);
    // ...so the newest token of that family is refused everywhere.
    await a.http().post('/v1/auth/refresh').send({ refreshToken: rotated.body.refreshToken }).expect(401);
  });

  it('shows both replicas the same analysis history', async () => {
    const user = await registerUser(a);
    const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c33' } })
      .png()
      .toBuffer();
    const created = await a
      .http()
      .post('/v1/analyses')
      .set(bearer(user))
      .attach('file', image, { filename: 'x.png', contentType: 'image/png' })
      .expect(201);
    const listed = await b.http().get('/v1/analyses').set(bearer(user)).expect(200);
    expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([created.body.id]);
    await b.http().get(`/v1/analyses/${created.body.id}`).set(bearer(user)).expect(200);
  });
});
