import { GENEROUS_LIMITS, expectProblem, startAnalysisSuite, suiteFor, AnalysisSuite } from './analyses-test-kit';
import { uniqueJpeg } from './fixtures/images';
import { bearer } from './support/auth';
import { parsedLogs } from './support/test-app';

/**
 * Request hygiene (docs/api.md, "Request hygiene"): deep JSON, reserved keys, control characters,
 * malformed strings and upper-case ids — each a clear 4xx, never a 5xx, in both modes.
 */
describe('Request hygiene', () => {
  let s: AnalysisSuite;

  beforeAll(async () => {
    s = await startAnalysisSuite(GENEROUS_LIMITS, { probes: true });
  });
  afterAll(() => s.t.close());

  const json = (path: string, body: string, token?: string) => {
    const req = s.t.http().post(path).set('Content-Type', 'application/json');
    if (token) req.set('Authorization', `Bearer ${token}`);
    return req.send(body);
  };
  const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);
  const unhandled = (requestId: string) =>
    parsedLogs(s.t).filter((line) => line.requestId === requestId && line.msg === 'unhandled error');

  describe('JSON depth', () => {
    it('answers 2000 levels of nesting on the public refresh route with a 400, not a stack overflow', async () => {
      const res = await json('/v1/auth/refresh', `{"refreshToken":${nested(2000)}}`).set('X-Request-ID', 'deep-1');
      expectProblem(res, 400);
      expect(res.body.detail).toMatch(/nested/);
      expect(unhandled('deep-1')).toEqual([]);
    });

    it('refuses 33 levels and lets 32 through to validation', async () => {
      // The body object is level 1: {"name": [[…]]} with 31 arrays is 32 levels deep.
      const ok = await json('/v1/probe/echo', `{"name":${nested(31)},"count":1}`);
      expectProblem(ok, 400, 'validation-failed');
      const deep = await json('/v1/probe/echo', `{"name":${nested(32)},"count":1}`);
      expectProblem(deep, 400);
      expect(deep.body.detail).toMatch(/nested deeper than 32/);
    });

    it('counts brackets inside strings as text', async () => {
      const res = await json('/v1/probe/echo', JSON.stringify({ name: '[{'.repeat(10), count: 1 }));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ name: '[{'.repeat(10), count: 1 });
    });

    it('refuses deep JSON on an authenticated route too', async () => {
      const res = await json('/v1/ip/lookup', `{"ips":${nested(500, '"1.1.1.1"')}}`, s.user.accessToken);
      expectProblem(res, 400);
    });
  });

  describe('reserved keys', () => {
    it.each(['__proto__', 'constructor', 'prototype'])('refuses "%s" at the top of a register body', async (key) => {
      const body = `{"email":"proto-${key}@example.com","password":"correct horse battery","${key}":{"role":"admin"}}`;
      const res = await json('/v1/auth/register', body);
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toContainEqual({ field: key, message: 'unknown field' });
    });

    it('refuses a reserved key nested anywhere in a body', async () => {
      const res = await json('/v1/ip/lookup', '{"ips":[{"a":{"__proto__":{"x":1}}}]}', s.user.accessToken);
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toContainEqual({ field: 'ips.0.a.__proto__', message: 'unknown field' });
    });

    it('refuses a reserved key spelled with escapes', async () => {
      const res = await json('/v1/probe/echo', '{"name":"x","count":1,"\\u005f_proto__":{}}');
      expectProblem(res, 400, 'validation-failed');
    });

    it('refuses a multipart text field named __proto__', async () => {
      const res = await s.upload(await uniqueJpeg()).field('__proto__', 'x');
      expectProblem(res, 400, 'validation-failed');
    });
  });

  describe('control characters and malformed strings', () => {
    const report = (comment: string) =>
      s.t
        .http()
        .post('/v1/ip/118.25.6.39/reports')
        .set(bearer(s.user))
        .send({ categories: [18], comment });

    it.each([
      ['NUL', 'brute\u0000force'],
      ['ESC', 'brute\u001bforce'],
      ['DEL', 'brute\u007fforce'],
      ['C1 NEL', 'brute\u0085force'],
      ['C1 CSI', 'brute\u009bforce'],
      ['a lone high surrogate', 'brute\ud800force'],
      ['a lone low surrogate', 'brute\udc00force'],
    ])('refuses %s in a report comment (nothing stored)', async (_name, comment) => {
      const res = await report(comment);
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toContainEqual({ field: 'comment', message: expect.stringMatching(/control|malformed/) });
    });

    it('keeps tab, CR and LF in free text, and any other Unicode', async () => {
      const res = await report('line one\r\n\tline two — 日本語 😀');
      expect(res.status).toBe(201);
      expect(res.body.comment).toBe('line one\r\n\tline two — 日本語 😀');
    });

    it.each([
      ['a lone surrogate in the email', { email: '\ud800@example.com', password: 'correct horse battery' }, 'email'],
      ['NUL in the email', { email: 'a\u0000b@example.com', password: 'correct horse battery' }, 'email'],
      ['a tab in the email', { email: 'a\tb@example.com', password: 'correct horse battery' }, 'email'],
      ['NUL in the password', { email: 'nul-pass@example.com', password: 'correct horse\u0000battery' }, 'password'],
      [
        'a lone surrogate in the password',
        { email: 'sur@example.com', password: 'correct horse \udfff battery' },
        'password',
      ],
    ])('register and login answer 400 for %s', async (_name, body, field) => {
      for (const path of ['/v1/auth/register', '/v1/auth/login']) {
        const res = await s.t.http().post(path).set('X-Request-ID', `lone-${field}`).send(body);
        expectProblem(res, 400, 'validation-failed');
        expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      }
      expect(unhandled(`lone-${field}`)).toEqual([]);
    });

    it('refuses a lone surrogate escaped in a key', async () => {
      const res = await json('/v1/probe/echo', '{"name":"x","count":1,"\\ud800":1}');
      expectProblem(res, 400, 'validation-failed');
    });

    it('refuses control characters in bulk lookup items', async () => {
      const res = await s.t
        .http()
        .post('/v1/ip/lookup')
        .set(bearer(s.user))
        .send({ ips: ['1.1.1.1\u0000'] });
      expectProblem(res, 400, 'validation-failed');
    });

    it.each([
      ['NUL', 'is there a cat\u0000'],
      ['C1 NEL', 'is there a cat\u0085 or a dog'],
    ])('refuses %s in an upload prompt', async (_name, prompt) => {
      const res = await s.upload(await uniqueJpeg(), { prompt });
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors).toContainEqual({ field: 'prompt', message: expect.stringMatching(/control/) });
    });

    it.each([
      ['NUL in a value', '{"album":"a\\u0000b"}'],
      ['C1 in a value', '{"album":"a\\u0085b"}'],
      ['a lone surrogate in a value', '{"album":"a\\ud800b"}'],
    ])('refuses %s of upload metadata', async (_name, metadata) => {
      const res = await s.upload(await uniqueJpeg(), { metadata });
      expectProblem(res, 400, 'validation-failed');
      expect(res.body.errors.map((error: { field: string }) => error.field)).toContain('metadata');
    });

    it('answers a malformed percent-encoded cursor with a 4xx', async () => {
      const res = await s.get('/v1/analyses?cursor=%ED%A0%80');
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });
  });

  describe('ids', () => {
    it('finds, serves and deletes an analysis by its upper-case id', async () => {
      const created = await s.upload(await uniqueJpeg());
      expect([201, 202]).toContain(created.status);
      const id: string = created.body.id;
      const upper = id.toUpperCase();

      const found = await s.get(`/v1/analyses/${upper}`);
      expect(found.status).toBe(200);
      expect(found.body.id).toBe(id);

      const other = suiteFor(s.t, await s.newUser());
      expect((await other.get(`/v1/analyses/${upper}`)).status).toBe(404);

      expect((await s.del(`/v1/analyses/${upper}`)).status).toBe(204);
      expect((await s.get(`/v1/analyses/${id}`)).status).toBe(404);
    });

    it('still answers 400 for an id that is not a UUID', async () => {
      expectProblem(await s.get('/v1/analyses/not-a-uuid'), 400);
    });
  });
});
