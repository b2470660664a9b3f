import { readFileSync } from 'node:fs';
import { SentryFake } from './fakes/sentry-fake';
import { createTestApp, TestApp } from './support/test-app';

function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text
    .split('\n')
    .find(
      (candidate) =>
        candidate.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)),
    );
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('metrics (docs/operations.md)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { probes: true });
  });
  afterAll(() => t.close());

  it('labels requests by route template, never by raw path', async () => {
    await t.http().get('/v1/probe/items/abc-123').expect(200);
    await t.http().get('/v1/probe/items/def-456').expect(200);
    await t.http().get('/v1/unknown-thing/98765').expect(404);

    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const labels = { method: 'GET', route: '/v1/probe/items/:id', status_code: '200' };
    expect(metricValue(res.text, 'http_requests_total', labels)).toBe(2);
    expect(metricValue(res.text, 'http_request_duration_seconds_count', labels)).toBe(2);
    expect(metricValue(res.text, 'http_requests_total', { route: 'unmatched', status_code: '404' })).toBe(1);
    expect(res.text).not.toMatch(/abc-123|def-456|unknown-thing|98765/);
  });

  it('exports the contract metric families and process defaults', async () => {
    const res = await t.http().get('/metrics').expect(200);
    for (const name of [
      'http_request_duration_seconds',
      'http_requests_total',
      'argus_cache_requests_total',
      'argus_upstream_requests_total',
      'argus_upstream_request_duration_seconds',
      'argus_ai_tokens_total',
      'argus_ai_cost_usd_total',
      'argus_api_key_expiry_timestamp_seconds',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(res.text).toContain(`# TYPE ${name} `);
    }
  });

  it('exports the build it runs as argus_build_info, value 1', async () => {
    const res = await t.http().get('/metrics').expect(200);
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(res.text).toContain(`argus_build_info{version="${version}",node_version="${process.version}"} 1`);
  });
});

describe('metrics token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: 'scrape-token-123' });
  });
  afterAll(() => t.close());

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    await t.http().get('/metrics').expect(401);
    await t.http().get('/metrics').set('Authorization', 'Bearer wrong-token-123').expect(401);
    const res = await t.http().get('/metrics').set('Authorization', 'Bearer scrape-token-123').expect(200);
    expect(res.text).toContain('http_requests_total');
  });
});

describe('Sentry', () => {
  const sentry = new SentryFake();
  let t: TestApp;

  beforeAll(async () => {
    await sentry.start();
    t = await createTestApp({ SENTRY_DSN: sentry.dsn }, { probes: true });
  });
  afterAll(async () => {
    await t.close();
    await sentry.close();
  });

  it('reports 5xx with the request id tag, and never 4xx', async () => {
    await t.http().get('/v1/nothing-here').set('X-Request-ID', 'sentry-404').expect(404);
    await t.http().get('/v1/probe/boom').set('X-Request-ID', 'sentry-500').expect(500);

    const event = await sentry.waitFor((candidate) => candidate.tags?.requestId === 'sentry-500', 10_000);
    expect(event.exception?.values?.[0]?.value).toContain('SELECT password_hash');
    expect(sentry.events.some((candidate) => candidate.tags?.requestId === 'sentry-404')).toBe(false);
  });
});

describe('logging', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ LOG_LEVEL: 'info' }, { probes: true });
  });
  afterAll(() => t.close());

  it('logs one JSON line per request and keeps operational routes below info', async () => {
    await t.http().get('/v1/probe/items/5').set('X-Request-ID', 'one-line').expect(200);
    await t.http().get('/health/live').set('X-Request-ID', 'quiet-health').expect(200);
    const lines = t.logs.map((line) => JSON.parse(line));
    const requestLines = lines.filter((line) => line.requestId === 'one-line' && line.route);
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({ level: 'info', service: 'argus', version: expect.any(String) });
    expect(new Date(requestLines[0].time).toISOString()).toBe(requestLines[0].time);
    expect(lines.some((line) => line.requestId === 'quiet-health')).toBe(false);
  });

  it('redacts credentials from request logs', async () => {
    await t
      .http()
      .get('/v1/probe/items/6')
      .set('Authorization', 'Bearer super-secret-token-value')
      .set('Cookie', 'session=cookie-secret-value')
      .expect(200);
    const text = t.logs.join('\n');
    expect(text).not.toContain('super-secret-token-value');
    expect(text).not.toContain('cookie-secret-value');
  });
});
