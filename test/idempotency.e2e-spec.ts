import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { RedisService } from '../src/redis/redis.service';
import { GENEROUS_LIMITS as ANALYSIS_LIMITS, expectProblem, openAiEnv } from './analyses-test-kit';
import { OpenAiFake } from './fakes/openai-fake';
import { uniquePng } from './fixtures/images';
import { freshPublicIp, GENEROUS_LIMITS as IP_LIMITS, ipPath } from './ip-test-kit';
import { bearer, RegisteredUser, registerUser } from './support/auth';
import { eventually } from './support/net';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

const KEY_HEADER = 'Idempotency-Key';
const REPLAYED = 'idempotent-replayed';

describe(`Idempotency keys (docs/api.md, Idempotency keys) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const openai = new OpenAiFake();
  let t: TestApp;
  let alice: RegisteredUser;

  beforeAll(async () => {
    await openai.start();
    t = await createTestApp({ ...IP_LIMITS, ...ANALYSIS_LIMITS, ...openAiEnv(openai), WEBHOOK_ALLOW_PRIVATE: 'true' });
    alice = await registerUser(t);
  });
  afterAll(async () => {
    await t?.close();
    await openai.close();
  });

  const key = () => `key-${randomUUID()}`;

  function report(app: TestApp, user: RegisteredUser, ip: string, body: object, idempotencyKey?: string): request.Test {
    const req = app.http().post(ipPath(ip, '/reports')).set(bearer(user));
    if (idempotencyKey !== undefined) req.set(KEY_HEADER, idempotencyKey);
    return req.send(body);
  }

  function upload(user: RegisteredUser, file: Buffer, idempotencyKey?: string): request.Test {
    const req = t.http().post('/v1/analyses').set(bearer(user));
    if (idempotencyKey !== undefined) req.set(KEY_HEADER, idempotencyKey);
    return req.attach('file', file, { filename: 'image.png', contentType: 'image/png' });
  }

  async function reportRows(ip: string): Promise<number> {
    const row = await t.app
      .get(DataSource)
      .createQueryBuilder()
      .select('COUNT(*)', 'n')
      .from('ip_reports', 'report')
      .where('report.ip = :ip', { ip })
      .getRawOne<{ n: string | number }>();
    return Number(row?.n);
  }

  /** What the configured store holds for a user: Redis values, or rows of idempotency_keys. */
  async function stored(user: RegisteredUser): Promise<string[]> {
    const redis = t.app.get(RedisService);
    if (redis.client) {
      const keys = await redis.client.keys(redis.key('idempotency', user.userId, '*'));
      return keys.length === 0 ? [] : ((await redis.client.mget(...keys)) as string[]);
    }
    const rows = await t.app
      .get(DataSource)
      .createQueryBuilder()
      .select('*')
      .from('idempotency_keys', 'k')
      .where('k.user_id = :userId', { userId: user.userId })
      .getRawMany<object>();
    return rows.map((row) => JSON.stringify(row));
  }

  it(`keeps its keys in ${servicesMode && process.env.TEST_REDIS_URL ? 'Redis' : 'the database'}`, () => {
    const ready = t.logs
      .map((line) => JSON.parse(line) as { msg?: string; store?: string })
      .find((line) => line.msg === 'idempotency store ready');
    expect(ready?.store).toBe(t.env.REDIS_URL ? 'redis' : 'database');
  });

  describe('POST /v1/ip/:address/reports', () => {
    it('answers a retry with the first response and Idempotent-Replayed, filing one report', async () => {
      const ip = freshPublicIp();
      const k = key();
      const body = { categories: [18, 22], comment: 'ssh brute force' };

      const first = await report(t, alice, ip, body, k).expect(201);
      const retry = await report(t, alice, ip, body, k).expect(201);

      expect(first.headers[REPLAYED]).toBeUndefined();
      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(retry.text).toBe(first.text);
      expect(retry.headers['content-type']).toBe(first.headers['content-type']);
      expect(retry.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
      expect(await reportRows(ip)).toBe(1);
    });

    it('keeps the response body encrypted: the store holds no readable copy of it', async () => {
      const user = await registerUser(t);
      const comment = `a comment to look for ${randomUUID()}`;

      const first = await report(t, user, freshPublicIp(), { categories: [18], comment }, key()).expect(201);

      const values = await stored(user);
      expect(values).toHaveLength(1);
      expect(values[0]).not.toContain(comment);
      expect(values[0]).not.toContain(first.body.id);
    });

    it('treats the same body with its keys in another order as the same request', async () => {
      const ip = freshPublicIp();
      const k = key();

      const first = await report(t, alice, ip, { categories: [18], comment: 'x' }, k).expect(201);
      const retry = await report(t, alice, ip, { comment: 'x', categories: [18] }, k).expect(201);

      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body.id).toBe(first.body.id);
    });

    it('answers 422 idempotency-key-reused for the same key with another body or address, filing nothing', async () => {
      const ip = freshPublicIp();
      const otherIp = freshPublicIp();
      const k = key();
      await report(t, alice, ip, { categories: [18] }, k).expect(201);

      const otherBody = await report(t, alice, ip, { categories: [22] }, k);
      const otherAddress = await report(t, alice, otherIp, { categories: [18] }, k);

      for (const res of [otherBody, otherAddress]) {
        expectProblem(res, 422, 'idempotency-key-reused');
        expect(res.headers[REPLAYED]).toBeUndefined();
      }
      expect(await reportRows(ip)).toBe(1);
      expect(await reportRows(otherIp)).toBe(0);
    });

    it('keeps keys per user: another user may use the same key for their own request', async () => {
      const bob = await registerUser(t);
      const ip = freshPublicIp();
      const k = key();
      const body = { categories: [14] };

      const fromAlice = await report(t, alice, ip, body, k).expect(201);
      const fromBob = await report(t, bob, ip, body, k).expect(201);

      expect(fromBob.headers[REPLAYED]).toBeUndefined();
      expect(fromBob.body.id).not.toBe(fromAlice.body.id);
      expect(await reportRows(ip)).toBe(2);
    });

    it('keeps a 4xx the operation decided: the retry gets the same problem again', async () => {
      const k = key();

      const first = await report(t, alice, '10.1.2.3', { categories: [18] }, k);
      const retry = await report(t, alice, '10.1.2.3', { categories: [18] }, k);

      expectProblem(first, 400);
      expect(retry.status).toBe(400);
      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(retry.body).toEqual(first.body);
    });

    it('does not keep a validation failure: the corrected request runs under the same key', async () => {
      const ip = freshPublicIp();
      const k = key();

      expectProblem(await report(t, alice, ip, { categories: [99] }, k), 400, 'validation-failed');
      const corrected = await report(t, alice, ip, { categories: [18] }, k).expect(201);

      expect(corrected.headers[REPLAYED]).toBeUndefined();
      expect(await reportRows(ip)).toBe(1);
    });

    it.each([
      ['an empty key', ''],
      ['a key of 256 characters', 'k'.repeat(256)],
      ['a key with a space', 'order 42'],
      ['a key with a non-ASCII character', 'cl\u00e9'],
    ])('refuses %s with 400 and writes nothing', async (_name, badKey) => {
      const user = await registerUser(t);
      const ip = freshPublicIp();

      const res = await report(t, user, ip, { categories: [18] }, badKey);

      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toEqual([{ field: KEY_HEADER, message: expect.any(String) }]);
      expect(await reportRows(ip)).toBe(0);
      expect(await stored(user)).toEqual([]);
    });

    it('answers 401 without a token, before looking at the key', async () => {
      const ip = freshPublicIp();

      const res = await t
        .http()
        .post(ipPath(ip, '/reports'))
        .set(KEY_HEADER, key())
        .send({ categories: [18] });

      expectProblem(res, 401);
      expect(await reportRows(ip)).toBe(0);
    });

    it('serves requests without a key as before: each one runs', async () => {
      const ip = freshPublicIp();

      const first = await report(t, alice, ip, { categories: [18] }).expect(201);
      const second = await report(t, alice, ip, { categories: [18] }).expect(201);

      expect(second.headers[REPLAYED]).toBeUndefined();
      expect(second.body.id).not.toBe(first.body.id);
    });
  });

  describe('POST /v1/analyses (multipart: fields and file bytes in the fingerprint)', () => {
    it('answers a retry with the first analysis: one row, the same id twice', async () => {
      const user = await registerUser(t);
      const file = await uniquePng();
      const k = key();

      const first = await upload(user, file, k).expect(201);
      const retry = await upload(user, file, k).expect(201);

      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body).toEqual(first.body);
      const list = await t.http().get('/v1/analyses').set(bearer(user)).expect(200);
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([first.body.id]);
    });

    it('answers 422 for another image under the same key', async () => {
      const user = await registerUser(t);
      const k = key();
      await upload(user, await uniquePng(), k).expect(201);

      expectProblem(await upload(user, await uniquePng(), k), 422, 'idempotency-key-reused');
      const list = await t.http().get('/v1/analyses').set(bearer(user)).expect(200);
      expect(list.body.items).toHaveLength(1);
    });

    it('answers a duplicate sent while the first is served with 409 and Retry-After, and never runs it', async () => {
      const user = await registerUser(t);
      const file = await uniquePng();
      const k = key();
      const callsBefore = openai.callCount;
      openai.delay(1_500, 1);

      const first = upload(user, file, k).then((res) => res);
      await eventually(
        () => (openai.callCount > callsBefore ? true : undefined),
        'the first upload to reach the model',
      );
      const duplicate = await upload(user, file, k);

      expectProblem(duplicate, 409, 'idempotency-key-in-flight');
      expect(Number(duplicate.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const answered = await first;
      expect(answered.status).toBe(201);
      const retry = await upload(user, file, k).expect(201);
      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body.id).toBe(answered.body.id);
      expect(openai.callCount).toBe(callsBefore + 1);
    });
  });

  describe('POST /v1/analyses/batch', () => {
    function batch(user: RegisteredUser, files: Buffer[], idempotencyKey: string): request.Test {
      const req = t.http().post('/v1/analyses/batch').set(bearer(user)).set(KEY_HEADER, idempotencyKey);
      for (const [index, file] of files.entries()) {
        req.attach('files', file, { filename: `image-${index}.png`, contentType: 'image/png' });
      }
      return req;
    }

    it('answers a retry with the first items, accepting each file once; other files under the key → 422', async () => {
      const user = await registerUser(t);
      const files = [await uniquePng(), await uniquePng()];
      const k = key();

      const first = await batch(user, files, k).expect(202);
      const retry = await batch(user, files, k).expect(202);
      const reordered = await batch(user, [files[1], files[0]], k);

      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(first.body.items).toHaveLength(2);
      expectProblem(reordered, 422, 'idempotency-key-reused');
      const list = await t.http().get('/v1/analyses').set(bearer(user)).expect(200);
      expect(list.body.items).toHaveLength(2);
    });
  });

  describe('POST /v1/webhooks', () => {
    it('answers a retry with the first endpoint, its signing secret included, registering one', async () => {
      const user = await registerUser(t);
      const k = key();
      const body = { url: 'http://127.0.0.1:9/hooks/argus', events: ['analysis.succeeded'] };
      const create = (payload: object) =>
        t.http().post('/v1/webhooks').set(bearer(user)).set(KEY_HEADER, k).send(payload);

      const first = await create(body).expect(201);
      const retry = await create(body).expect(201);
      const other = await create({ ...body, url: 'http://127.0.0.1:9/hooks/other' });

      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(retry.body.secret).toMatch(/^whsec_/);
      expectProblem(other, 422, 'idempotency-key-reused');
      const list = await t.http().get('/v1/webhooks').set(bearer(user)).expect(200);
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual([first.body.id]);
      expect((await stored(user)).join()).not.toContain(first.body.secret);
    });
  });

  describe('two instances sharing the database (and Redis)', () => {
    let other: TestApp;

    beforeAll(async () => {
      other = await createTestApp({ ...IP_LIMITS, ...openAiEnv(openai) }, { shareWith: t });
    });
    afterAll(() => other?.close());

    it('replays on one instance the response first given by the other', async () => {
      const ip = freshPublicIp();
      const k = key();
      const body = { categories: [18], comment: 'seen from two replicas' };

      const first = await report(t, alice, ip, body, k).expect(201);
      const retry = await report(other, alice, ip, body, k).expect(201);
      const reused = await report(other, alice, ip, { categories: [22] }, k);

      expect(retry.headers[REPLAYED]).toBe('true');
      expect(retry.body).toEqual(first.body);
      expectProblem(reused, 422, 'idempotency-key-reused');
      expect(await reportRows(ip)).toBe(1);
    });
  });

  describe('OpenAPI', () => {
    it('documents the header and the 409/422 on every idempotent operation', async () => {
      const doc = (await t.http().get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: object }>>;
      };
      const operations = [
        doc.paths['/v1/analyses'].post,
        doc.paths['/v1/analyses/batch'].post,
        doc.paths['/v1/ip/{address}/reports'].post,
        doc.paths['/v1/webhooks'].post,
      ];

      for (const operation of operations) {
        expect(operation.parameters).toEqual(
          expect.arrayContaining([expect.objectContaining({ name: KEY_HEADER, in: 'header' })]),
        );
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['409', '422']));
      }
    });
  });
});
