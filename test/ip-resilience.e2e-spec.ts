import { AbuseIpDbFake } from './fakes/abuseipdb-fake';
import { GOOD_KEY, freshPublicIp, ipPath, IpSuite, startIpSuite } from './ip-test-kit';
import { servicesMode } from './support/test-app';

interface Source {
  provider: string;
  score: number | null;
  fetchedAt: string;
  error?: string;
  stale?: boolean;
}

const sourceOf = (body: { sources: Source[] }, provider: string): Source | undefined =>
  body.sources.find((source) => source.provider === provider);

const mode = servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite';

describe(`IP stale-if-error and provider failures (docs/api.md, IP reputation) — ${mode}`, () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD_KEY] });
  let s: IpSuite;

  beforeAll(async () => {
    await fake.start();
    // Every lookup fresh, so each one asks the provider.
    s = await startIpSuite(fake, { IP_CACHE_TTL: '0' });
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await s?.t.close();
    await fake.close();
  });

  it('answers a failing provider with its last known answer, marked stale, and keeps a 200', async () => {
    const ip = freshPublicIp();
    fake.setScore(ip, { abuseConfidenceScore: 80, countryCode: 'RU', isp: 'Stale ISP', totalReports: 9 });
    const good = await s.get(ipPath(ip)).expect(200);
    expect(good.body).toMatchObject({ score: 80, verdict: 'malicious', stale: false });

    fake.failWith(500);
    const res = await s.get(ipPath(ip));

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ score: 80, verdict: 'malicious', stale: true, country: 'RU', isp: 'Stale ISP' });
    expect(sourceOf(res.body, 'abuseipdb')).toEqual({
      ...sourceOf(good.body, 'abuseipdb'),
      stale: true,
      error: 'unavailable',
    });
    expect(JSON.stringify(res.body)).not.toContain('Internal server error');

    // Still failing: the stand-in is carried forward from the stale snapshot, with its original time.
    const again = await s.get(ipPath(ip)).expect(200);
    expect(sourceOf(again.body, 'abuseipdb')).toMatchObject({
      score: 80,
      stale: true,
      fetchedAt: sourceOf(good.body, 'abuseipdb')?.fetchedAt,
    });

    const history = await s.get(ipPath(ip, '/history')).expect(200);
    expect(history.body.items.map((item: { score: number }) => item.score)).toEqual([80, 80, 80]);
    expect(history.body.items[0].sources[0]).toMatchObject({ provider: 'abuseipdb', stale: true });
  });

  it('lists a failing provider with no earlier answer with its error: verdict unknown, still 200', async () => {
    fake.failWith(503);
    const res = await s.get(ipPath(freshPublicIp()));

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ score: null, verdict: 'unknown', stale: false });
    expect(sourceOf(res.body, 'abuseipdb')).toEqual({
      provider: 'abuseipdb',
      score: null,
      totalReports: 0,
      lastReportedAt: null,
      categories: [],
      fetchedAt: expect.any(String),
      error: 'unavailable',
    });
  });

  it('takes the verdict from the sources that did answer', async () => {
    const ip = freshPublicIp();
    await s.post(ipPath(ip, '/reports'), { categories: [18] }).expect(201);
    fake.failWith(500);

    const res = await s.get(ipPath(ip)).expect(200);

    expect(res.body).toMatchObject({ score: 30, verdict: 'suspicious' });
    expect(sourceOf(res.body, 'abuseipdb')?.error).toMatch(/^(unavailable|circuit-open)$/);
  });

  it('stops calling a provider that keeps failing (circuit open) and says so per source', async () => {
    fake.failWith(500);
    let last: { body: { sources: Source[] } } | undefined;
    for (let attempt = 0; attempt < 6; attempt++) {
      const calls = fake.callCount;
      last = await s.get(ipPath(freshPublicIp())).expect(200);
      if (sourceOf(last.body, 'abuseipdb')?.error === 'circuit-open') {
        expect(fake.callCount).toBe(calls);
        break;
      }
    }
    expect(last && sourceOf(last.body, 'abuseipdb')?.error).toBe('circuit-open');
  });
});

describe(`IP lookups against a hanging provider — ${mode}`, () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD_KEY] });
  let s: IpSuite;

  beforeAll(async () => {
    await fake.start();
    s = await startIpSuite(fake, { IP_PROVIDER_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await s?.t.close();
    await fake.close();
  });

  it('answers within a bounded time with the source timed out', async () => {
    fake.hang();
    const started = Date.now();
    const res = await s.get(ipPath(freshPublicIp()));
    const elapsed = Date.now() - started;

    expect(res.status).toBe(200);
    expect(sourceOf(res.body, 'abuseipdb')).toMatchObject({ error: 'timeout', score: null });
    expect(res.body.verdict).toBe('unknown');
    // One attempt and one retry of 300 ms each, plus a short backoff.
    expect(elapsed).toBeLessThan(2500);
  });

  it('caches a degraded answer too (for at most a minute): a repeat makes no call', async () => {
    const ip = freshPublicIp();
    const degraded = await s.get(ipPath(ip)).expect(200);
    expect(degraded.body.verdict).toBe('unknown');
    const calls = fake.callCount;
    const repeat = await s.get(ipPath(ip)).expect(200);
    expect(repeat.body).toEqual({ ...degraded.body, cached: true });
    expect(fake.callCount).toBe(calls);
  });
});

describe(`AbuseIPDB key rotation — ${mode}`, () => {
  const SECOND_KEY = 'abuseipdb-second-key-fedcba9876543210';
  const BAD_KEY = 'abuseipdb-revoked-key-0000000000000000';
  const fake = new AbuseIpDbFake({ validKeys: [GOOD_KEY, SECOND_KEY] });

  beforeAll(() => fake.start());
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('moves from a rejected key to a good one and keeps using the good one', async () => {
    const s = await startIpSuite(fake, {}, {}, [BAD_KEY, GOOD_KEY]);
    try {
      const ip = freshPublicIp();
      fake.setScore(ip, { abuseConfidenceScore: 55 });
      const res = await s.get(ipPath(ip)).expect(200);
      expect(res.body).toMatchObject({ score: 55, verdict: 'suspicious', stale: false });
      expect(sourceOf(res.body, 'abuseipdb')?.error).toBeUndefined();
      expect(fake.requests.map((r) => r.key)).toEqual([BAD_KEY, GOOD_KEY]);

      await s.get(ipPath(freshPublicIp())).expect(200);
      expect(fake.requests.map((r) => r.key)).toEqual([BAD_KEY, GOOD_KEY, GOOD_KEY]);

      const warning = s.t.logs.find((line) => line.includes('rejected an API key'));
      expect(warning).toBeDefined();
      expect(JSON.parse(warning as string)).toMatchObject({
        keyIndex: 1,
        reason: 'rejected',
        level: expect.anything(),
      });
      expect(s.t.logs.some((line) => line.includes(BAD_KEY) || line.includes(GOOD_KEY))).toBe(false);
    } finally {
      await s.t.close();
    }
  });

  it('moves from a key whose daily quota is spent, and exports each key’s remaining quota', async () => {
    const s = await startIpSuite(fake, {}, {}, [GOOD_KEY, SECOND_KEY]);
    try {
      fake.exhaustKey(GOOD_KEY);
      const res = await s.get(ipPath(freshPublicIp())).expect(200);
      expect(sourceOf(res.body, 'abuseipdb')?.error).toBeUndefined();
      expect(fake.requests.map((r) => r.key)).toEqual([GOOD_KEY, SECOND_KEY]);

      await s.get(ipPath(freshPublicIp())).expect(200);
      expect(fake.requests.map((r) => r.key)).toEqual([GOOD_KEY, SECOND_KEY, SECOND_KEY]);

      const metrics = await s.t.http().get('/metrics').expect(200);
      expect(metrics.text).toMatch(/argus_upstream_quota_remaining\{provider="abuseipdb",key="1"\} 0\b/);
      expect(metrics.text).toMatch(/argus_upstream_quota_remaining\{provider="abuseipdb",key="2"\} 998\b/);
      expect(metrics.text).not.toContain(GOOD_KEY);
    } finally {
      await s.t.close();
    }
  });

  it('fails the source when every key is spent, then stops calling until a key resets', async () => {
    const s = await startIpSuite(fake, {}, {}, [GOOD_KEY]);
    try {
      fake.exhaustKey(GOOD_KEY);
      const res = await s.get(ipPath(freshPublicIp())).expect(200);
      expect(sourceOf(res.body, 'abuseipdb')).toMatchObject({ error: 'quota-exhausted', score: null });
      expect(res.body.verdict).toBe('unknown');
      expect(fake.callCount).toBe(1);

      await s.get(ipPath(freshPublicIp())).expect(200);
      expect(fake.callCount).toBe(1);
    } finally {
      await s.t.close();
    }
  });
});
