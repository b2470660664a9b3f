import { DataSource } from 'typeorm';
import { WebhookReceiver } from './fakes/webhook-receiver';
import { bearer, registerUser, RegisteredUser } from './support/auth';
import { eventually } from './support/net';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/** A public address (TEST-NET would be refused as documentation space): registration does not resolve it. */
const PUBLIC_URL = 'http://93.184.215.14/hook';

describe(`Webhooks: SSRF refusals (docs/api.md, Webhooks), WEBHOOK_ALLOW_PRIVATE unset — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  let t: TestApp;
  let user: RegisteredUser;
  const hook = new WebhookReceiver();

  beforeAll(async () => {
    await hook.start();
    t = await createTestApp({ WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '300' });
    user = await registerUser(t);
  });
  afterAll(async () => {
    await t?.close();
    await hook.close();
  });

  async function endpointCount(): Promise<number> {
    const res = await t.http().get('/v1/webhooks').set(bearer(user)).expect(200);
    return (res.body as { items: unknown[] }).items.length;
  }

  it.each([
    ['loopback', () => hook.hookUrl, /127\.0\.0\.1 is a loopback address/],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['IPv4-mapped IPv6 loopback', () => 'http://[::ffff:127.0.0.1]/hook', /loopback/],
    [
      'a host name resolving to loopback',
      () => `http://localhost:${new URL(hook.url).port}/hook`,
      /localhost resolves to .*loopback/,
    ],
    ['IPv6 loopback', () => 'http://[::1]/hook', /loopback/],
    ['private', () => 'http://10.1.2.3/hook', /private/],
    ['link-local', () => 'http://169.254.10.10/hook', /link-local/],
    ['carrier-grade NAT', () => 'http://100.64.0.1/hook', /carrier-grade NAT/],
    ['unspecified', () => 'http://0.0.0.0/hook', /unspecified/],
    ['unique-local IPv6 (EC2 metadata)', () => 'http://[fd00:ec2::254]/hook', /cloud metadata/],
    ['IPv4 written as one number', () => 'http://2130706433/hook', /loopback/],
  ])('refuses %s with 400 and writes no row', async (_case, url, message) => {
    const res = await t
      .http()
      .post('/v1/webhooks')
      .set(bearer(user))
      .send({ url: url(), events: ['analysis.failed'] });

    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([{ field: 'url', message: expect.stringMatching(message) }]);
    expect(await endpointCount()).toBe(0);
    expect(hook.requests).toHaveLength(0);
  });

  it('checks again at delivery: a URL that now points at a refused address is not called', async () => {
    const created = await t
      .http()
      .post('/v1/webhooks')
      .set(bearer(user))
      .send({ url: PUBLIC_URL, events: ['analysis.failed'] })
      .expect(201);
    const id = (created.body as { id: string }).id;
    // What a DNS answer that changed after registration amounts to: the endpoint now leads to loopback.
    const placeholders = servicesMode ? ['$1', '$2'] : ['?', '?'];
    await t.app
      .get(DataSource)
      .query(`UPDATE "webhook_endpoints" SET "url" = ${placeholders[0]} WHERE "id" = ${placeholders[1]}`, [
        hook.hookUrl,
        id,
      ]);

    await t.http().post(`/v1/webhooks/${id}/test`).set(bearer(user)).expect(202);
    const delivery = await eventually(async () => {
      const res = await t.http().get(`/v1/webhooks/${id}/deliveries`).set(bearer(user)).expect(200);
      const [first] = (res.body as { items: Array<{ attempts: number; lastError: string | null }> }).items;
      return first?.lastError ? first : undefined;
    }, 'a refused attempt');

    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(delivery.lastError).toMatch(/^refused: 127\.0\.0\.1 is a loopback address/);
    expect(hook.requests).toHaveLength(0);
  });
});

describe('Webhooks in production (NODE_ENV=production)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ NODE_ENV: 'production', ALLOW_EMBEDDED_DB: 'true' });
  });
  afterAll(() => t?.close());

  it('refuses a plain-http URL with 400', async () => {
    const user = await registerUser(t);
    const res = await t
      .http()
      .post('/v1/webhooks')
      .set(bearer(user))
      .send({ url: PUBLIC_URL, events: ['analysis.failed'] });

    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'url', message: 'url must use https in production' }]);
  });
});
