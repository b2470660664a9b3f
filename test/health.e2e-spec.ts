import { ShutdownState } from '../src/common/lifecycle/shutdown-state';
import { createTestApp, TestApp } from './support/test-app';

describe('health (docs/operations.md)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ABUSEIPDB_API_KEY_EXPIRES_AT: new Date(Date.now() + 3 * 86_400_000).toISOString() });
  });
  afterAll(() => t.close());

  it('answers liveness without touching dependencies', async () => {
    const res = await t.http().get('/health/live').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it.each(['/health/ready', '/health'])('%s reports the database and, without failing on them, Redis and keys', async (path) => {
    const res = await t.http().get(path).expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.details.database).toEqual({ status: 'up' });
    expect(res.body.details.redis.status).toBe('up');
    expect(res.body.details.apiKeys.abuseipdb).toMatchObject({ state: 'expiring', daysLeft: 2 });
  });

  it('turns readiness 503 once shutdown has begun, liveness stays 200', async () => {
    t.app.get(ShutdownState).begin();
    const res = await t.http().get('/health/ready').expect(503);
    expect(res.body.status).toBe('error');
    expect(res.body.details.lifecycle).toMatchObject({ status: 'down', state: 'shutting-down' });
    await t.http().get('/health/live').expect(200);
  });
});
