import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { bearer, registerUser } from './support/auth';
import { hasRedisServer, PrivateRedis } from './support/net';
import { createTestApp, TestApp } from './support/test-app';

/** Per-IP and per-user limits for the suites that count both (with TRUST_PROXY=1, to pick the client). */
const BOTH_LIMITS = { RATE_LIMIT_PER_MINUTE: '3', ANALYSIS_RATE_LIMIT_PER_MINUTE: '5', TRUST_PROXY: '1' };

/**
 * A user's request is counted by client IP, then by user, and one refused by its IP limit never
 * counts against its user — also once the token is remembered and the AppGuard counts both in one
 * storage call. Needs an app built with BOTH_LIMITS and the probe routes.
 */
async function expectIpThenUserCounting(t: TestApp): Promise<void> {
  const user = await registerUser(t);
  const from = (ip: string) => t.http().get('/v1/probe/me').set(bearer(user)).set('X-Forwarded-For', ip);
  for (let hit = 1; hit <= 3; hit++) {
    const res = await from('203.0.113.70').expect(200);
    expect(res.body).toEqual({ userId: user.userId });
    expect(res.headers['x-ratelimit-remaining']).toBe(String(3 - hit));
    expect(res.headers['x-ratelimit-remaining-analysis']).toBe(String(5 - hit));
    // Both counters' headers, whether counted one call each (the first hit verifies the token) or together.
    expect(res.headers['x-ratelimit-limit']).toBe('3');
    expect(res.headers['x-ratelimit-limit-analysis']).toBe('5');
    expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    expect(Number(res.headers['x-ratelimit-reset-analysis'])).toBeGreaterThan(0);
  }
  // Over its IP limit: refused by IP, and not counted against the user.
  await from('203.0.113.70').expect(429);
  await from('203.0.113.70').expect(429);
  expect((await from('203.0.113.71').expect(200)).headers['x-ratelimit-remaining-analysis']).toBe('1');
  expect((await from('203.0.113.72').expect(200)).headers['x-ratelimit-remaining-analysis']).toBe('0');

  // Over the user's limit: refused from any address, after that address was counted; the 429
  // carries the user limit's own headers, none of the per-IP limit that let it through.
  const limited = await from('203.0.113.73');
  expect(limited.status).toBe(429);
  expectRefusedBy(limited, '-analysis', '5');
  expect(limited.body).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });
}

const RATE_LIMIT_SUFFIXES = ['', '-auth', '-analysis', '-ip'];

/**
 * A 429 carries `Retry-After` and the refusing limit's `X-RateLimit-*` (its suffix, `Remaining: 0`,
 * `Reset` = `Retry-After`), and no other limit's headers (docs/api.md, Conventions).
 */
export function expectRefusedBy(
  res: { status: number; headers: Record<string, string> },
  suffix: string,
  limit: string,
): void {
  expect(res.status).toBe(429);
  expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(res.headers[`x-ratelimit-limit${suffix}`]).toBe(limit);
  expect(res.headers[`x-ratelimit-remaining${suffix}`]).toBe('0');
  expect(res.headers[`x-ratelimit-reset${suffix}`]).toBe(res.headers['retry-after']);
  const others = Object.keys(res.headers).filter(
    (name) =>
      name.startsWith('x-ratelimit-') &&
      !RATE_LIMIT_SUFFIXES.filter((other) => other !== suffix).every(
        (other) => !['limit', 'remaining', 'reset'].some((part) => name === `x-ratelimit-${part}${other}`),
      ),
  );
  expect(others).toEqual([]);
}

describe('per-IP rate limit (docs/api.md, Conventions)', () => {
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
      expectRefusedBy(limited, '', '3');
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

  describe('the auth scope', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ AUTH_RATE_LIMIT_PER_MINUTE: '2', RATE_LIMIT_PER_MINUTE: '120', TRUST_PROXY: '1' });
    });
    afterAll(() => t.close());

    it("answers a 429 with the auth limit's own headers, never the global limit's", async () => {
      const login = () =>
        t
          .http()
          .post('/v1/auth/login')
          .set('X-Forwarded-For', '203.0.113.90')
          .send({ email: 'nobody@example.com', password: 'not-the-password-1' });
      for (let hit = 1; hit <= 2; hit++) {
        const res = await login().expect(401);
        expect(res.headers['x-ratelimit-remaining-auth']).toBe(String(2 - hit));
        expect(res.headers['x-ratelimit-remaining']).toBe(String(120 - hit));
      }
      const limited = await login();
      expectRefusedBy(limited, '-auth', '2');
      expect(limited.body).toMatchObject({ status: 429, type: expect.stringMatching(/rate-limited$/) });
      // The global limit, counted first, counted the refused attempt; the next request sees it.
      const other = await t.http().get('/v1/auth/me').set('X-Forwarded-For', '203.0.113.90').expect(401);
      expect(other.headers['x-ratelimit-remaining']).toBe('116');
      expect(other.headers['x-ratelimit-remaining-auth']).toBeUndefined();
    });
  });

  describe('the ip scope, counted again by a bulk lookup', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ IP_RATE_LIMIT_PER_MINUTE: '5' });
    });
    afterAll(() => t.close());

    it("answers a refused batch with the ip limit's own headers and counts none of it", async () => {
      const user = await registerUser(t);
      const batch = (count: number) =>
        t
          .http()
          .post('/v1/ip/lookup')
          .set(bearer(user))
          .send({ ips: Array.from({ length: count }, (_, i) => `192.0.2.${i + 1}`) });
      const limited = await batch(6);
      expectRefusedBy(limited, '-ip', '5');
      // The guard counted the request once; the refused batch added nothing.
      const single = await t.http().get('/v1/ip/8.8.8.8').set(bearer(user));
      expect(single.headers['x-ratelimit-remaining-ip']).toBe('3');
    });
  });

  describe('per client IP and per user', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(BOTH_LIMITS, { probes: true });
    });
    afterAll(() => t.close());

    it('counts by IP first and never counts a request its IP limit refused against its user', async () => {
      await expectIpThenUserCounting(t);
    });
  });

  (hasRedisServer ? describe : describe.skip)('counted in Redis', () => {
    let redisServer: PrivateRedis;
    let redis: Redis;
    let t: TestApp;
    beforeAll(async () => {
      redisServer = await PrivateRedis.start();
      redis = new Redis(redisServer.url);
      // ARGUS_ROLE=api: no job worker polls this Redis, so its scripts' EVALs cannot blur the count below.
      t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '3', REDIS_URL: redisServer.url, ARGUS_ROLE: 'api' }, { probes: true });
    });
    afterAll(async () => {
      await t.close();
      redis.disconnect();
      await redisServer.kill();
    });

    it('keeps one count when Redis forgets the rate-limit script (EVALSHA falls back to EVAL)', async () => {
      const remaining = async () =>
        (await t.http().get('/v1/probe/items/1').expect(200)).headers['x-ratelimit-remaining'];
      expect(await remaining()).toBe('2');
      const counters = await redis.keys(`*${t.env.REDIS_KEY_PREFIX ?? ''}rl:default:*`);
      expect(counters.length).toBeGreaterThan(0);

      await redis.script('FLUSH');
      await redis.config('RESETSTAT');
      expect(await remaining()).toBe('1');
      expect(await remaining()).toBe('0');
      await t.http().get('/v1/probe/items/1').expect(429);

      // Counted by SHA; the whole script went over the wire once, right after the flush.
      const stats = await redis.info('commandstats');
      const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
      expect(calls('evalsha')).toBeGreaterThanOrEqual(3);
      expect(calls('eval')).toBe(1);
    });

    it('counts a request with a remembered token by IP and by user in one EVALSHA', async () => {
      const both = await createTestApp(
        { ...BOTH_LIMITS, REDIS_URL: redisServer.url, REDIS_KEY_PREFIX: `both-${randomUUID()}:` },
        { probes: true },
      );
      try {
        const user = await registerUser(both);
        // The first request verifies the token (two calls: by IP, then by user); the next ones are remembered.
        await both.http().get('/v1/probe/me').set(bearer(user)).set('X-Forwarded-For', '198.51.100.80').expect(200);
        await redis.config('RESETSTAT');
        for (const ip of ['198.51.100.81', '198.51.100.82', '198.51.100.83']) {
          await both.http().get('/v1/probe/me').set(bearer(user)).set('X-Forwarded-For', ip).expect(200);
        }
        const stats = await redis.info('commandstats');
        expect(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1]).toBe('3');
        expect(stats).not.toMatch(/cmdstat_eval:/);
      } finally {
        await both.close();
      }
    });

    it('keeps the order of the counts in the script: a request refused by IP is not counted against its user', async () => {
      const both = await createTestApp(
        { ...BOTH_LIMITS, REDIS_URL: redisServer.url, REDIS_KEY_PREFIX: `both-${randomUUID()}:` },
        { probes: true },
      );
      try {
        await expectIpThenUserCounting(both);
      } finally {
        await both.close();
      }
    });
  });
});
