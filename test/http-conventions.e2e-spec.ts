import { createTestApp, TestApp } from './support/test-app';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('HTTP conventions (docs/api.md, Conventions)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ALLOWED_ORIGINS: 'https://app.example.com' }, { probes: true });
  });
  afterAll(() => t.close());

  describe('correlation id', () => {
    it('reuses a well-formed X-Request-ID and exposes it to the handler', async () => {
      const res = await t.http().get('/v1/probe/items/7').set('X-Request-ID', 'client.id:42-a_b');
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe('client.id:42-a_b');
      expect(res.body).toEqual({ id: '7', requestId: 'client.id:42-a_b' });
    });

    it.each([['has spaces'], ['x'.repeat(129)], ['<script>'], ['']])('replaces a malformed id %#', async (bad) => {
      const res = await t.http().get('/health/live').set('X-Request-ID', bad);
      expect(res.headers['x-request-id']).toMatch(UUID_V4);
    });

    it('makes a UUID v4 when none is sent', async () => {
      const res = await t.http().get('/health/live');
      expect(res.headers['x-request-id']).toMatch(UUID_V4);
    });

    it('carries the id on 404s, in the problem body too', async () => {
      const res = await t.http().get('/v1/no/such/route').set('X-Request-ID', 'trace-404');
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toBe('trace-404');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        type: 'urn:argus:problem:not-found',
        title: 'Not Found',
        status: 404,
        instance: '/v1/no/such/route',
        requestId: 'trace-404',
      });
      expect(typeof res.body.detail).toBe('string');
    });

    it('writes the id into every log line of the request', async () => {
      await t.http().get('/v1/probe/items/1').set('X-Request-ID', 'log-trace-1');
      const lines = t.logs.filter((line) => line.includes('log-trace-1')).map((line) => JSON.parse(line));
      expect(lines.length).toBeGreaterThan(0);
      const requestLine = lines.find((line) => line.route === '/v1/probe/items/:id');
      expect(requestLine).toMatchObject({ requestId: 'log-trace-1', method: 'GET', status: 200 });
      expect(typeof requestLine.responseTime).toBe('number');
    });
  });

  describe('errors', () => {
    it('turns an unexpected throw into a bare 500 problem that leaks nothing', async () => {
      const res = await t.http().get('/v1/probe/boom').set('X-Request-ID', 'boom-1');
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toEqual({
        type: 'urn:argus:problem:internal-error',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred.',
        instance: '/v1/probe/boom',
        requestId: 'boom-1',
      });
      expect(res.text).not.toMatch(/SELECT|password|\/srv|secret|at .*\.ts/);
      const logged = t.logs.find((line) => line.includes('boom-1') && line.includes('unhandled error'));
      expect(logged).toContain('SELECT password_hash');
    });

    it('answers malformed JSON with a 400 problem', async () => {
      const res = await t.http().post('/v1/probe/echo').set('Content-Type', 'application/json').send('{"name": ');
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'urn:argus:problem:bad-request', status: 400 });
      expect(res.body.detail).toMatch(/JSON/);
    });

    it('answers an oversized JSON body with a 413 problem', async () => {
      const res = await t
        .http()
        .post('/v1/probe/echo')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ name: 'x'.repeat(200 * 1024), count: 1 }));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ type: 'urn:argus:problem:payload-too-large', status: 413 });
    });

    it('rejects unknown and invalid fields with field errors', async () => {
      const res = await t.http().post('/v1/probe/echo').send({ name: 'ok', count: 99, extra: true });
      expect(res.status).toBe(400);
      expect(res.body.type).toBe('urn:argus:problem:validation-failed');
      const fields = res.body.errors.map((error: { field: string }) => error.field).sort();
      expect(fields).toEqual(['count', 'extra']);
      expect(res.body.errors.find((e: { field: string }) => e.field === 'extra').message).toBe('unknown field');
    });

    it('transforms and accepts a valid body', async () => {
      const res = await t.http().post('/v1/probe/echo').send({ name: 'ok', count: 3 });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ name: 'ok', count: 3 });
    });
  });

  describe('hardening', () => {
    it('sends helmet headers and no X-Powered-By', async () => {
      const res = await t.http().get('/health/live');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
      // HSTS only in production.
      expect(res.headers['strict-transport-security']).toBeUndefined();
    });

    it('grants CORS to a listed origin', async () => {
      const res = await t
        .http()
        .options('/v1/probe/echo')
        .set('Origin', 'https://app.example.com')
        .set('Access-Control-Request-Method', 'POST');
      expect(res.status).toBeLessThan(300);
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    });

    it('lets an allowed origin read the request id and every throttler header', async () => {
      const res = await t.http().get('/health/live').set('Origin', 'https://app.example.com');
      expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(res.headers.vary).toBe('Origin');
      const exposed = String(res.headers['access-control-expose-headers']).split(',');
      expect(exposed).toEqual(
        expect.arrayContaining([
          'X-Request-ID',
          'Retry-After',
          'X-RateLimit-Remaining',
          'X-RateLimit-Remaining-ip',
          'Location',
          'Idempotent-Replayed',
          'Preference-Applied',
        ]),
      );
    });

    it('answers a request without Origin with Vary: Origin and no CORS headers', async () => {
      const res = await t.http().get('/health/live');
      expect(res.headers.vary).toBe('Origin');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-expose-headers']).toBeUndefined();
    });

    it('gives no CORS grant to any other origin', async () => {
      const preflight = await t
        .http()
        .options('/v1/probe/echo')
        .set('Origin', 'https://evil.example.net')
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      const simple = await t.http().get('/health/live').set('Origin', 'https://evil.example.net');
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('docs', () => {
    it('serves Swagger UI at /docs', async () => {
      const res = await t.http().get('/docs/').redirects(1);
      expect(res.status).toBe(200);
      expect(res.text).toContain('swagger-ui');
    });

    it('serves a Swagger UI init script that is valid JavaScript', async () => {
      // @nestjs/swagger splices the document into this script with String.replace, where a "$`" in
      // any description silently corrupts it and leaves a blank page.
      const res = await t.http().get('/docs/swagger-ui-init.js').expect(200);
      expect(() => new Function(res.text)).not.toThrow();
    });

    it('serves the OpenAPI 3 document with the bearer scheme', async () => {
      const res = await t.http().get('/docs-json');
      expect(res.status).toBe(200);
      expect(res.body.openapi).toMatch(/^3\./);
      expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/health/ready']));
    });
  });
});

describe('HSTS in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ NODE_ENV: 'production', ALLOW_EMBEDDED_DB: 'true' });
  });
  afterAll(() => t.close());

  it('sends Strict-Transport-Security', async () => {
    const res = await t.http().get('/health/live');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  });
});
