import Redis from 'ioredis';
import { hasRedisServer, PrivateRedis } from './support/net';
import { createTestApp, TestApp } from './support/test-app';

describe('per-IP rate limit (CONTRACT §1)', () => {
  describe('without TRUST_PROXY', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '3' }, { probes: true });
    });
    afterAll(() => t.close());

    it('counts every /v1 route of one client together and answers 429 with Retry-After', async () => {
      const first = await t.http().get('/v1/probe/items/1');
      expect(first.status).toBe(200);
      expect(first.headers['x-ratelimit-limit']).toBe('3');
      expect(first.headers['x-ratelimit-remaining']).toBe('2');
      expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0);

      await t.http().get('/v1/probe/items/2').expect(200);
      // A forged X-Forwarded-For must not buy a fresh counter.
      await t.http().get('/v1/probe/items/3').set('X-Forwarded-For', '203.0.113.9').expect(200);
      const limited = await t.http().get('/v1/probe/items/4').set('X-Forwarded-For', '198.51.100.7');

      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.body).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });
    });

    it('never limits health, metrics or docs', async () => {
      for (let i = 0; i < 6; i++) {
        await t.http().get('/health/live').expect(200);
        await t.http().get('/metrics').expect(200);
      }
      await t.http().get('/docs-json').expect(200);
    });
  });

  describe('with TRUST_PROXY=1', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '1' }, { probes: true });
    });
    afterAll(() => t.close());

    it('counts per address the trusted proxy reports', async () => {
      const as = (ip: string) => t.http().get('/v1/probe/items/1').set('X-Forwarded-For', ip);
      await as('203.0.113.1').expect(200);
      await as('203.0.113.1').expect(200);
      await as('203.0.113.1').expect(429);
      // Another client behind the same proxy has its own counter.
      await as('203.0.113.2').expect(200);
      // Only the last hop is trusted: a client-supplied left-most entry is ignored.
      await as('10.9.9.9, 203.0.113.1').expect(429);
    });

    it('refuses a client over its limit with 429 before looking at its token (IP limits run first)', async () => {
      const me = () =>
        t.http().get('/v1/auth/me').set('X-Forwarded-For', '203.0.113.50').set('Authorization', 'Bearer not-a-token');
      await me().expect(401);
      await me().expect(401);
      const limited = await me();
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toMatch(/^\d+$/);
    });
  });

  (hasRedisServer ? describe : describe.skip)('counted in Redis', () => {
    let redisServer: PrivateRedis;
    let redis: Redis;
    let t: TestApp;
    beforeAll(async () => {
      redisServer = await PrivateRedis.start();
      redis = new Redis(redisServer.url);
      t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '3', REDIS_URL: redisServer.url }, { probes: true });
    });
    afterAll(async () => {
      await t.close();
      redis.disconnect();
      await redisServer.kill();
    });

    it('keeps one count when Redis forgets the rate-limit script (EVALSHA falls back to EVAL)', async () => {
      const remaining = async () => (await t.http().get('/v1/probe/items/1').expect(200)).headers['x-ratelimit-remaining'];
      expect(await remaining()).toBe('2');
      const counters = await redis.keys(`*${t.env.REDIS_KEY_PREFIX ?? ''}rl:default:*`);
      expect(counters.length).toBeGreaterThan(0);

      await redis.script('FLUSH');
      expect(await remaining()).toBe('1');
      expect(await remaining()).toBe('0');
      await t.http().get('/v1/probe/items/1').expect(429);

      // Counted by SHA; the whole script went over the wire only while Redis did not know it (first use, after the flush).
      const stats = await redis.info('commandstats');
      const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      expect(calls('evalsha')).toBeGreaterThanOrEqual(2);
      expect(calls('eval')).toBeLessThanOrEqual(2);
    });
  });
});

