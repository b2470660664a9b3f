import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Clock } from '../src/webhooks/clock';
import { WebhookEvents } from '../src/webhooks/webhook-events.service';
import { ReceivedDelivery, WebhookReceiver } from './fakes/webhook-receiver';
import { bearer, registerUser, RegisteredUser } from './support/auth';
import { eventually } from './support/net';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

const HOUR = 3_600_000;
const ALL_EVENTS = ['analysis.succeeded', 'analysis.failed', 'ip.verdict_changed'];
const mode = servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite';

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  secret: string;
  disabledAt: string | null;
  createdAt: string;
}

interface Delivery {
  id: string;
  event: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

function expectProblem(res: request.Response, status: number, field?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, type: expect.any(String), requestId: expect.any(String) });
  if (field) expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
}

function metricValue(text: string, outcome: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`argus_webhook_deliveries_total{outcome="${outcome}"}`));
  return Number(line?.split(' ').pop() ?? NaN);
}

/** An app, helpers over its routes, and a clock the test moves forward. */
class Suite {
  private offsetMs = 0;
  /** Endpoints that may still have deliveries queued: deleted after each test, so none runs on in the next. */
  private readonly created: Array<{ user: RegisteredUser; id: string }> = [];

  constructor(readonly t: TestApp) {
    jest.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date(Date.now() + this.offsetMs));
  }

  /** Moves the app's webhook clock (and each receiver's verifier with it) forward. */
  /**
   * True once attempt `attempt` of the delivery has been written back with its retry scheduled
   * (from the second attempt on, the retry is minutes away; while an attempt runs, the row's
   * next attempt is its lease, seconds away, and `lastStatusCode` still that of the attempt before).
   */
  retryScheduled(delivery: Delivery, attempt: number): boolean {
    const wait = Date.parse(delivery.nextAttemptAt ?? '') - (Date.now() + this.offsetMs);
    return delivery.status === 'pending' && delivery.attempts === attempt && wait > 60_000;
  }

  advance(ms: number, ...receivers: WebhookReceiver[]): void {
    this.offsetMs += ms;
    for (const receiver of receivers) receiver.clockOffsetMs = this.offsetMs;
  }

  async register(user: RegisteredUser, body: object): Promise<request.Response> {
    const res = await this.t.http().post('/v1/webhooks').set(bearer(user)).send(body);
    if (res.status === 201) this.created.push({ user, id: (res.body as Endpoint).id });
    return res;
  }

  async deleteCreated(): Promise<void> {
    for (const { user, id } of this.created.splice(0)) {
      await this.t.http().delete(`/v1/webhooks/${id}`).set(bearer(user));
    }
  }

  async endpoint(user: RegisteredUser, receiver: WebhookReceiver, events = ALL_EVENTS): Promise<Endpoint> {
    const res = await this.register(user, { url: receiver.hookUrl, events });
    expect(res.status).toBe(201);
    const endpoint = res.body as Endpoint;
    receiver.secret = endpoint.secret;
    receiver.clockOffsetMs = this.offsetMs;
    return endpoint;
  }

  async list(user: RegisteredUser): Promise<Endpoint[]> {
    const res = await this.t.http().get('/v1/webhooks').set(bearer(user)).expect(200);
    return (res.body as { items: Endpoint[] }).items;
  }

  async deliveries(user: RegisteredUser, endpointId: string): Promise<Delivery[]> {
    const res = await this.t.http().get(`/v1/webhooks/${endpointId}/deliveries`).set(bearer(user)).expect(200);
    return (res.body as { items: Delivery[] }).items;
  }

  async sendTest(user: RegisteredUser, endpointId: string): Promise<string> {
    const res = await this.t.http().post(`/v1/webhooks/${endpointId}/test`).set(bearer(user)).expect(202);
    return (res.body as { deliveryId: string }).deliveryId;
  }

  /** The delivery once `done` holds for it (polled through the API). */
  async deliveryWhen(
    user: RegisteredUser,
    endpointId: string,
    deliveryId: string,
    done: (delivery: Delivery) => boolean,
    what: string,
  ): Promise<Delivery> {
    return eventually(async () => {
      const found = (await this.deliveries(user, endpointId)).find((delivery) => delivery.id === deliveryId);
      return found && done(found) ? found : undefined;
    }, what);
  }

  async metric(outcome: string): Promise<number> {
    return metricValue((await this.t.http().get('/metrics').expect(200)).text, outcome);
  }
}

async function received(receiver: WebhookReceiver, count: number): Promise<ReceivedDelivery[]> {
  return eventually(
    () => (receiver.requests.length >= count ? receiver.requests.slice(0, count) : undefined),
    `${count} deliveries`,
  );
}

describe(`Webhooks (docs/api.md, Webhooks) — ${mode}`, () => {
  let s: Suite;
  const receivers: WebhookReceiver[] = [];

  async function receiver(): Promise<WebhookReceiver> {
    const started = new WebhookReceiver();
    await started.start();
    receivers.push(started);
    return started;
  }

  beforeAll(async () => {
    s = new Suite(
      await createTestApp({
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_POLL_MS: '50',
        WEBHOOK_TIMEOUT_MS: '300',
        AUTH_RATE_LIMIT_PER_MINUTE: '1000',
        RATE_LIMIT_PER_MINUTE: '10000',
      }),
    );
  });
  afterEach(() => s.deleteCreated());
  afterAll(async () => {
    await s?.t.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  describe('endpoints', () => {
    it('registers an endpoint and shows its whsec_ secret once, never in the list or the database', async () => {
      const user = await registerUser(s.t);
      const res = await s.register(user, {
        url: 'http://127.0.0.1:9/hook?tenant=7',
        events: ['analysis.succeeded', 'ip.verdict_changed'],
        description: 'Production callback',
      });

      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        url: 'http://127.0.0.1:9/hook?tenant=7',
        events: ['analysis.succeeded', 'ip.verdict_changed'],
        description: 'Production callback',
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+={0,2}$/),
        disabledAt: null,
        createdAt: expect.any(String),
      });
      const { secret, id } = res.body as Endpoint;
      expect(Buffer.from(secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);

      const items = await s.list(user);
      expect(items).toEqual([{ ...(res.body as Endpoint), secret: undefined }].map(({ secret: _, ...rest }) => rest));
      const rows: Array<Record<string, unknown>> = await s.t.app
        .get(DataSource)
        .query('SELECT * FROM "webhook_endpoints" WHERE "id" = $1'.replace('$1', servicesMode ? '$1' : '?'), [id]);
      expect(rows).toHaveLength(1);
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice('whsec_'.length));
    });

    it('lists only the caller’s own endpoints', async () => {
      const [alice, bob] = [await registerUser(s.t), await registerUser(s.t)];
      await s.register(alice, { url: 'http://127.0.0.1:9/a', events: ['analysis.failed'] });
      expect(await s.list(bob)).toEqual([]);
      expect((await s.list(alice)).map((e) => e.url)).toEqual(['http://127.0.0.1:9/a']);
    });

    it.each([
      ['a relative URL', { url: '/hook', events: ['analysis.failed'] }, 'url'],
      ['a URL that is not http(s)', { url: 'ftp://127.0.0.1/hook', events: ['analysis.failed'] }, 'url'],
      ['credentials in the URL', { url: 'http://user:pw@127.0.0.1/hook', events: ['analysis.failed'] }, 'url'],
      ['no url', { events: ['analysis.failed'] }, 'url'],
      ['an unknown event', { url: 'http://127.0.0.1/hook', events: ['analysis.deleted'] }, 'events'],
      ['no events', { url: 'http://127.0.0.1/hook', events: [] }, 'events'],
      ['a repeated event', { url: 'http://127.0.0.1/hook', events: ['analysis.failed', 'analysis.failed'] }, 'events'],
      ['events that is not a list', { url: 'http://127.0.0.1/hook', events: 'analysis.failed' }, 'events'],
      [
        'a description over 256',
        { url: 'http://127.0.0.1/hook', events: ['analysis.failed'], description: 'x'.repeat(257) },
        'description',
      ],
      [
        'a control character',
        { url: 'http://127.0.0.1/hook', events: ['analysis.failed'], description: 'a\u0000b' },
        'description',
      ],
      [
        'an unknown field',
        { url: 'http://127.0.0.1/hook', events: ['analysis.failed'], secret: 'whsec_mine' },
        'secret',
      ],
    ])('refuses %s with 400 and writes no row', async (_case, body, field) => {
      const user = await registerUser(s.t);
      expectProblem(await s.register(user, body), 400, field);
      expect(await s.list(user)).toEqual([]);
    });

    it('deletes an endpoint (204); someone else’s or an unknown one is 404, a non-UUID 400', async () => {
      const [alice, bob] = [await registerUser(s.t), await registerUser(s.t)];
      const endpoint = (await s.register(alice, { url: 'http://127.0.0.1:9/a', events: ['analysis.failed'] }))
        .body as Endpoint;

      for (const path of [`/v1/webhooks/${endpoint.id}`, `/v1/webhooks/${endpoint.id}/test`]) {
        const method = path.endsWith('/test') ? 'post' : 'delete';
        expectProblem(await s.t.http()[method](path).set(bearer(bob)), 404);
      }
      expectProblem(await s.t.http().get(`/v1/webhooks/${endpoint.id}/deliveries`).set(bearer(bob)), 404);
      expectProblem(await s.t.http().delete(`/v1/webhooks/${randomUUID()}`).set(bearer(alice)), 404);
      expectProblem(await s.t.http().delete('/v1/webhooks/not-a-uuid').set(bearer(alice)), 400);
      expectProblem(await s.t.http().get('/v1/webhooks/not-a-uuid/deliveries').set(bearer(alice)), 400);

      await s.t.http().delete(`/v1/webhooks/${endpoint.id.toUpperCase()}`).set(bearer(alice)).expect(204);
      expect(await s.list(alice)).toEqual([]);
      expectProblem(await s.t.http().delete(`/v1/webhooks/${endpoint.id}`).set(bearer(alice)), 404);
    });

    it('answers 401 without a token on every route', async () => {
      const id = randomUUID();
      for (const [method, path] of [
        ['post', '/v1/webhooks'],
        ['get', '/v1/webhooks'],
        ['delete', `/v1/webhooks/${id}`],
        ['post', `/v1/webhooks/${id}/test`],
        ['get', `/v1/webhooks/${id}/deliveries`],
      ] as const) {
        const res = await s.t.http()[method](path).send({});
        expectProblem(res, 401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });
  });

  describe('delivery', () => {
    it('delivers a webhook.test event that the standardwebhooks verifier accepts', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      const endpoint = await s.endpoint(user, hook);

      const deliveryId = await s.sendTest(user, endpoint.id);
      const [delivery] = await received(hook, 1);

      expect(delivery.verified).toBe(true);
      expect(delivery.method).toBe('POST');
      expect(delivery.path).toBe('/hook');
      expect(delivery.headers['webhook-id']).toBe(deliveryId);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.body).toEqual({
        type: 'webhook.test',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        data: expect.objectContaining({ endpointId: endpoint.id }),
      });
      const done = await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => d.status !== 'pending', 'success');
      expect(done).toEqual({
        id: deliveryId,
        event: 'webhook.test',
        status: 'succeeded',
        attempts: 1,
        lastStatusCode: 204,
        lastError: null,
        nextAttemptAt: null,
        createdAt: expect.any(String),
      });
    });

    it('emits to every subscribed endpoint of the user, once per dedupe key', async () => {
      const [alice, bob] = [await registerUser(s.t), await registerUser(s.t)];
      const [subscribed, other, bobs] = [await receiver(), await receiver(), await receiver()];
      const endpoint = await s.endpoint(alice, subscribed, ['analysis.succeeded']);
      await s.endpoint(alice, other, ['analysis.failed']);
      await s.endpoint(bob, bobs, ALL_EVENTS);

      const events = s.t.app.get(WebhookEvents);
      const analysis = { id: randomUUID(), status: 'succeeded', result: { summary: 'a red bicycle' } };
      await events.emit(alice.userId, 'analysis.succeeded', analysis, `analysis:${analysis.id}:succeeded`);
      await events.emit(alice.userId, 'analysis.succeeded', analysis, `analysis:${analysis.id}:succeeded`);

      const [delivery] = await received(subscribed, 1);
      expect(delivery.verified).toBe(true);
      expect(delivery.body).toEqual({ type: 'analysis.succeeded', timestamp: expect.any(String), data: analysis });
      const [listed] = await s.deliveries(alice, endpoint.id);
      await s.deliveryWhen(alice, endpoint.id, listed.id, (d) => d.status === 'succeeded', 'success');
      expect(await s.deliveries(alice, endpoint.id)).toHaveLength(1);
      expect(subscribed.requests).toHaveLength(1);
      expect(other.requests).toHaveLength(0);
      expect(bobs.requests).toHaveLength(0);
    });

    it('retries a 500 with backoff under the same webhook-id until a 200: three attempts', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      hook.script.add({ kind: 'status', status: 500, body: 'try later' }, 2);
      hook.script.add({ kind: 'status', status: 200, body: 'ok' });
      const endpoint = await s.endpoint(user, hook);
      const before = { retry: await s.metric('retry'), success: await s.metric('success') };

      const deliveryId = await s.sendTest(user, endpoint.id);
      await received(hook, 1);
      const first = await s.deliveryWhen(
        user,
        endpoint.id,
        deliveryId,
        (d) => d.attempts === 1 && d.lastStatusCode === 500,
        'attempt 1',
      );
      expect(first).toMatchObject({ status: 'pending', lastError: 'HTTP 500' });
      // 5 s ± 20 % after the first failure: not due yet; then the clock passes it.
      const wait1 = Date.parse(first.nextAttemptAt!) - Date.parse(first.createdAt);
      expect(wait1).toBeGreaterThanOrEqual(3_900);
      expect(wait1).toBeLessThanOrEqual(6_500);
      s.advance(7_000, hook);
      await received(hook, 2);
      const second = await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => s.retryScheduled(d, 2), 'attempt 2');
      expect(second).toMatchObject({ lastStatusCode: 500, lastError: 'HTTP 500' });
      s.advance(7 * 60_000, hook);

      const deliveries = await received(hook, 3);
      const done = await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => d.status === 'succeeded', 'success');
      expect(done).toMatchObject({ attempts: 3, lastStatusCode: 200, nextAttemptAt: null });
      expect(deliveries.map((d) => d.headers['webhook-id'])).toEqual([deliveryId, deliveryId, deliveryId]);
      expect(deliveries.map((d) => d.verified)).toEqual([true, true, true]);
      expect(new Set(deliveries.map((d) => d.rawBody)).size).toBe(1);
      expect(await s.metric('retry')).toBe(before.retry + 2);
      expect(await s.metric('success')).toBe(before.success + 1);
    });

    it('cuts a receiver that does not answer at the timeout, and retries', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      hook.script.add({ kind: 'hang' }, 1);
      const endpoint = await s.endpoint(user, hook);

      const started = Date.now();
      const deliveryId = await s.sendTest(user, endpoint.id);
      const first = await s.deliveryWhen(
        user,
        endpoint.id,
        deliveryId,
        (d) => d.attempts === 1 && d.status === 'pending' && d.lastError !== null,
        'timeout',
      );
      expect(first).toMatchObject({ lastStatusCode: null, lastError: 'no answer within 300 ms' });
      expect(Date.now() - started).toBeLessThan(5_000);

      s.advance(7_000, hook);
      await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => d.status === 'succeeded', 'second attempt');
      expect(hook.requests.map((d) => d.verified)).toEqual([true, true]);
    });

    it('does not follow a redirect: a 3xx is a failed attempt and the target gets nothing', async () => {
      const user = await registerUser(s.t);
      const [hook, target] = [await receiver(), await receiver()];
      hook.script.add({ kind: 'redirect', status: 307, location: target.hookUrl });
      const endpoint = await s.endpoint(user, hook);

      const deliveryId = await s.sendTest(user, endpoint.id);
      const attempt = await s.deliveryWhen(
        user,
        endpoint.id,
        deliveryId,
        (d) => d.attempts === 1 && d.lastStatusCode !== null,
        'attempt',
      );
      expect(attempt).toMatchObject({ status: 'pending', lastStatusCode: 307 });
      expect(attempt.lastError).toMatch(/redirects are not followed/);
      expect(target.requests).toHaveLength(0);
    });

    it('keeps at most 1 KiB of an answer', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      hook.script.add({ kind: 'status', status: 200, body: 'é'.repeat(4000) });
      const endpoint = await s.endpoint(user, hook);

      const deliveryId = await s.sendTest(user, endpoint.id);
      await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => d.status === 'succeeded', 'success');
      const placeholder = servicesMode ? '$1' : '?';
      const [row] = (await s.t.app
        .get(DataSource)
        .query(`SELECT "last_response" FROM "webhook_deliveries" WHERE "id" = ${placeholder}`, [deliveryId])) as Array<{
        last_response: string;
      }>;
      expect(Buffer.byteLength(row.last_response)).toBeLessThanOrEqual(1024);
      expect(row.last_response.startsWith('éé')).toBe(true);
    });

    it('disables an endpoint after 24 h of failed deliveries and stops delivering to it', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      hook.script.add({ kind: 'status', status: 503 });
      const endpoint = await s.endpoint(user, hook);
      const failedBefore = await s.metric('failed');

      const deliveryId = await s.sendTest(user, endpoint.id);
      await s.deliveryWhen(
        user,
        endpoint.id,
        deliveryId,
        (d) => d.attempts === 1 && d.lastStatusCode === 503,
        'attempt 1',
      );
      s.advance(23 * HOUR, hook);
      await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => s.retryScheduled(d, 2), 'attempt 2');
      expect((await s.list(user))[0].disabledAt).toBeNull();

      s.advance(2 * HOUR, hook);
      const last = await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => d.status === 'failed', 'given up');
      expect(last).toMatchObject({ attempts: 3, nextAttemptAt: null });
      const [disabled] = await s.list(user);
      expect(disabled.disabledAt).not.toBeNull();
      expect(hook.requests.map((d) => d.verified)).toEqual([true, true, true]);
      expect(await s.metric('failed')).toBe(failedBefore + 1);

      expectProblem(await s.t.http().post(`/v1/webhooks/${endpoint.id}/test`).set(bearer(user)), 409);
      await s.t.app.get(WebhookEvents).emit(user.userId, 'analysis.failed', { id: randomUUID() }, `k:${randomUUID()}`);
      expect(await s.deliveries(user, endpoint.id)).toHaveLength(1);
    });

    it('gives up a delivery whose attempts ran out without an outcome (a process died mid-attempt each time)', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      hook.script.add({ kind: 'status', status: 500 }, 1);
      const endpoint = await s.endpoint(user, hook);
      const deliveryId = await s.sendTest(user, endpoint.id);
      await s.deliveryWhen(
        user,
        endpoint.id,
        deliveryId,
        (d) => d.attempts === 1 && d.lastStatusCode === 500,
        'attempt 1',
      );
      // As if seven more claims had each lost their process before writing an outcome.
      const [p1, p2] = servicesMode ? ['$1', '$2'] : ['?', '?'];
      await s.t.app
        .get(DataSource)
        .query(`UPDATE "webhook_deliveries" SET "attempts" = ${p1} WHERE "id" = ${p2}`, [8, deliveryId]);

      s.advance(7_000, hook);
      const given = await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => d.status === 'failed', 'given up');
      expect(given).toMatchObject({ attempts: 9, lastError: 'no outcome recorded', nextAttemptAt: null });
      expect(hook.requests).toHaveLength(1);
    });

    it('deletes finished deliveries after 30 days', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      const endpoint = await s.endpoint(user, hook);
      const deliveryId = await s.sendTest(user, endpoint.id);
      await s.deliveryWhen(user, endpoint.id, deliveryId, (d) => d.status === 'succeeded', 'success');

      s.advance(29 * 24 * HOUR, hook);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await s.deliveries(user, endpoint.id)).toHaveLength(1);
      s.advance(2 * 24 * HOUR, hook);
      await eventually(async () => ((await s.deliveries(user, endpoint.id)).length === 0 ? true : undefined), 'sweep');
    });

    it('pages deliveries newest first with a cursor', async () => {
      const user = await registerUser(s.t);
      const hook = await receiver();
      const endpoint = await s.endpoint(user, hook);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await s.sendTest(user, endpoint.id));

      const page1 = await s.t
        .http()
        .get(`/v1/webhooks/${endpoint.id}/deliveries?limit=2`)
        .set(bearer(user))
        .expect(200);
      expect(page1.body.items).toHaveLength(2);
      const page2 = await s.t
        .http()
        .get(`/v1/webhooks/${endpoint.id}/deliveries?limit=2&cursor=${page1.body.nextCursor as string}`)
        .set(bearer(user))
        .expect(200);
      expect(page2.body).toEqual({ items: [expect.objectContaining({})], nextCursor: null });
      const seen = [...page1.body.items, ...page2.body.items].map((d: Delivery) => d.id);
      expect(new Set(seen)).toEqual(new Set(ids));
      expectProblem(
        await s.t.http().get(`/v1/webhooks/${endpoint.id}/deliveries?cursor=bogus!`).set(bearer(user)),
        400,
      );
      expectProblem(await s.t.http().get(`/v1/webhooks/${endpoint.id}/deliveries?limit=101`).set(bearer(user)), 400);
    });
  });
});

describe(`Webhooks: two replicas and shutdown — ${mode}`, () => {
  const hook = new WebhookReceiver();
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    await hook.start();
    const env = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '20', AUTH_RATE_LIMIT_PER_MINUTE: '1000' };
    first = await createTestApp(env);
    second = await createTestApp(env, { shareWith: first });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await hook.close();
  });

  it('delivers each event once when two replicas poll the same deliveries table', async () => {
    const user = await registerUser(first);
    const created = await first
      .http()
      .post('/v1/webhooks')
      .set(bearer(user))
      .send({ url: hook.hookUrl, events: ['analysis.succeeded'] })
      .expect(201);
    hook.secret = (created.body as Endpoint).secret;

    const count = 40;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        (i % 2 ? first : second).app
          .get(WebhookEvents)
          .emit(user.userId, 'analysis.succeeded', { id: i }, `analysis:${i}:succeeded`),
      ),
    );

    await received(hook, count);
    // Give a double delivery, were there one, time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ids = hook.requests.map((d) => d.headers['webhook-id']);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    expect(hook.requests.every((d) => d.verified === true)).toBe(true);
  });
});

describe(`Webhooks: ARGUS_ROLE — ${mode}`, () => {
  const hook = new WebhookReceiver();
  let api: TestApp;

  beforeAll(async () => {
    await hook.start();
    api = await createTestApp({ ARGUS_ROLE: 'api', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '20' });
  });
  afterAll(async () => {
    await api?.close();
    await hook.close();
  });

  it('an api process queues deliveries and a worker process delivers them', async () => {
    const user = await registerUser(api);
    const created = await api
      .http()
      .post('/v1/webhooks')
      .set(bearer(user))
      .send({ url: hook.hookUrl, events: ['analysis.failed'] })
      .expect(201);
    const endpoint = created.body as Endpoint;
    hook.secret = endpoint.secret;
    const test = await api.http().post(`/v1/webhooks/${endpoint.id}/test`).set(bearer(user)).expect(202);

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.requests).toHaveLength(0);

    const worker = await createTestApp(
      { ARGUS_ROLE: 'worker', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '20' },
      { shareWith: api },
    );
    try {
      const [delivery] = await received(hook, 1);
      expect(delivery.headers['webhook-id']).toBe((test.body as { deliveryId: string }).deliveryId);
      expect(delivery.verified).toBe(true);
    } finally {
      await worker.close();
    }
  });
});

describe(`Webhooks: shutdown — ${mode}`, () => {
  const hook = new WebhookReceiver();
  let owner: TestApp;

  beforeAll(async () => {
    await hook.start();
    // The owner of the data polls once at start and then not within the test: only the subject delivers.
    owner = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '60000' });
  });
  afterAll(async () => {
    await owner?.close();
    await hook.close();
  });

  it('gives an attempt in flight back, uncounted, when the process shuts down', async () => {
    const subject = await createTestApp({ WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '20' }, { shareWith: owner });
    const user = await registerUser(subject);
    hook.script.add({ kind: 'hang' });
    const created = await subject
      .http()
      .post('/v1/webhooks')
      .set(bearer(user))
      .send({ url: hook.hookUrl, events: ['analysis.failed'] })
      .expect(201);
    const endpointId = (created.body as Endpoint).id;

    const test = await subject.http().post(`/v1/webhooks/${endpointId}/test`).set(bearer(user)).expect(202);
    const deliveryId = (test.body as { deliveryId: string }).deliveryId;
    await received(hook, 1);

    const started = Date.now();
    await subject.close();
    expect(Date.now() - started).toBeLessThan(5_000);

    const res = await owner.http().get(`/v1/webhooks/${endpointId}/deliveries`).set(bearer(user)).expect(200);
    expect((res.body as { items: Delivery[] }).items).toEqual([
      expect.objectContaining({ id: deliveryId, status: 'pending', attempts: 0, lastStatusCode: null }),
    ]);
  });
});

describe(`Webhooks: the key that seals endpoint secrets can change — ${mode}`, () => {
  const hook = new WebhookReceiver();
  const base = { WEBHOOK_ALLOW_PRIVATE: 'true', AUTH_RATE_LIMIT_PER_MINUTE: '1000' };
  let owner: TestApp;

  beforeAll(async () => {
    await hook.start();
    owner = await createTestApp({ ...base, WEBHOOK_POLL_MS: '60000' });
  });
  afterAll(async () => {
    await owner?.close();
    await hook.close();
  });

  async function sealedSecret(endpointId: string): Promise<string> {
    const placeholder = servicesMode ? '$1' : '?';
    const [row] = (await owner.app
      .get(DataSource)
      .query(`SELECT "secret_ciphertext" AS sealed FROM "webhook_endpoints" WHERE "id" = ${placeholder}`, [
        endpointId,
      ])) as Array<{ sealed: string }>;
    return row.sealed;
  }

  it('seals secrets again under WEBHOOK_SECRET_KEY at start, so JWT_SECRET can change afterwards', async () => {
    const user = await registerUser(owner);
    const created = await owner
      .http()
      .post('/v1/webhooks')
      .set(bearer(user))
      .send({ url: hook.hookUrl, events: ['analysis.succeeded'] })
      .expect(201);
    const endpoint = created.body as Endpoint;
    hook.secret = endpoint.secret;
    const sealedByJwtSecret = await sealedSecret(endpoint.id);

    const webhookKey = { WEBHOOK_SECRET_KEY: 'a-dedicated-webhook-key-of-at-least-32-bytes' };
    const withKey = await createTestApp({ ...base, ...webhookKey, WEBHOOK_POLL_MS: '60000' }, { shareWith: owner });
    await eventually(
      async () => ((await sealedSecret(endpoint.id)) !== sealedByJwtSecret ? true : undefined),
      'reseal',
    );
    await withKey.close();

    const rotated = await createTestApp(
      { ...base, ...webhookKey, WEBHOOK_POLL_MS: '20', JWT_SECRET: 'a-brand-new-jwt-secret-after-rotation-0123456789' },
      { shareWith: owner },
    );
    try {
      await rotated.app
        .get(WebhookEvents)
        .emit(user.userId, 'analysis.succeeded', { id: 'after-rotation' }, 'analysis:after-rotation:succeeded');
      const [delivery] = await received(hook, 1);
      expect(delivery.verified).toBe(true);
      expect(delivery.body).toMatchObject({ data: { id: 'after-rotation' } });
    } finally {
      await rotated.close();
    }
  });
});
