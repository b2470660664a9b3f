import { AbuseIpDbFake } from './fakes/abuseipdb-fake';
import {
  expectProblem,
  freshPublicIp,
  ipPath,
  IpSuite,
  startIpSuite,
  suiteFor,
  waitForEnrichment,
} from './ip-test-kit';
import { bearer, registerUser } from './support/auth';
import { servicesMode } from './support/test-app';

const GOOD = 'abuseipdb-good-key-0123456789abcdef';

describe(`IP reputation (docs/api.md, IP reputation) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD] });
  let s: IpSuite;

  beforeAll(async () => {
    await fake.start();
    s = await startIpSuite(fake);
    await waitForEnrichment(s);
  }, 150_000);
  afterAll(async () => {
    await s?.t.close();
    await fake.close();
  });

  describe('lookup', () => {
    it('answers every contract field for a public address, from AbuseIPDB', async () => {
      const ip = freshPublicIp();
      fake.setScore(ip, {
        abuseConfidenceScore: 87,
        countryCode: 'NL',
        isp: 'Example Transit B.V.',
        usageType: 'Data Center/Web Hosting/Transit',
        domain: 'transit.example',
        isTor: true,
        totalReports: 42,
        numDistinctUsers: 17,
        lastReportedAt: '2030-05-30T08:14:00+00:00',
        reports: [
          {
            reportedAt: '2030-05-30T08:14:00+00:00',
            comment: '',
            categories: [22, 18],
            reporterId: 1,
            reporterCountryCode: 'DE',
            reporterCountryName: 'Germany',
          },
          {
            reportedAt: '2030-05-29T08:14:00+00:00',
            comment: '',
            categories: [14],
            reporterId: 2,
            reporterCountryCode: 'FR',
            reporterCountryName: 'France',
          },
        ],
      });

      const res = await s.get(ipPath(ip)).expect(200);

      expect(res.body).toEqual({
        ip,
        version: 4,
        scope: 'public',
        score: 87,
        verdict: 'malicious',
        country: 'NL',
        isp: 'Example Transit B.V.',
        usageType: 'Data Center/Web Hosting/Transit',
        domain: 'transit.example',
        isTor: true,
        // From the shipped offline datasets (exact values: ip-enrichment.e2e-spec.ts).
        asn: expect.any(Number),
        asOrg: expect.any(String),
        network: expect.stringMatching(/^45\.\d+\.\d+\.\d+\/\d+$/),
        allowlisted: false,
        sources: [
          {
            provider: 'abuseipdb',
            score: 87,
            totalReports: 42,
            distinctReporters: 17,
            lastReportedAt: '2030-05-30T08:14:00.000Z',
            categories: [14, 18, 22],
            fetchedAt: expect.any(String),
          },
          {
            provider: 'local',
            score: null,
            totalReports: 0,
            distinctReporters: 0,
            lastReportedAt: null,
            categories: [],
            fetchedAt: expect.any(String),
          },
        ],
        cached: false,
        stale: false,
        checkedAt: expect.any(String),
      });
      expect(Date.parse(res.body.checkedAt)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('calls AbuseIPDB as documented: GET /check with Key, Accept, verbose and the request id', async () => {
      const ip = freshPublicIp();
      await s.get(ipPath(ip)).set('X-Request-ID', 'ip-lookup-correlation-1').expect(200);

      const call = fake.requests.at(-1);
      expect(call).toMatchObject({ method: 'GET', path: '/api/v2/check', key: GOOD, ipAddress: ip });
      expect(call?.requestId).toBe('ip-lookup-correlation-1');
      expect(call?.headers.accept).toBe('application/json');
      expect(call?.query.get('maxAgeInDays')).toBe('90');
      expect(call?.query.has('verbose')).toBe(true);
    });

    it.each([
      [24, 'clean'],
      [25, 'suspicious'],
      [74, 'suspicious'],
      [75, 'malicious'],
    ])('applies the thresholds: score %i → %s', async (score, verdict) => {
      const ip = freshPublicIp();
      fake.setScore(ip, { abuseConfidenceScore: score, totalReports: 3 });
      const res = await s.get(ipPath(ip)).expect(200);
      expect(res.body).toMatchObject({ score, verdict });
    });

    it('caches an answer: the second lookup makes no provider call', async () => {
      const ip = freshPublicIp();
      fake.setScore(ip, { abuseConfidenceScore: 40 });
      const first = await s.get(ipPath(ip)).expect(200);
      const calls = fake.callCount;
      const second = await s.get(ipPath(ip)).expect(200);

      expect(fake.callCount).toBe(calls);
      expect(first.body.cached).toBe(false);
      expect(second.body).toEqual({ ...first.body, cached: true });
    });

    it('shares one provider call among concurrent lookups of one address', async () => {
      const ip = freshPublicIp();
      fake.delay(300, 1);
      const calls = fake.callCount;
      const answers = await Promise.all(Array.from({ length: 6 }, () => s.get(ipPath(ip))));

      expect(answers.map((res) => res.status)).toEqual(Array(6).fill(200));
      expect(fake.callCount).toBe(calls + 1);
      expect(answers.filter((res) => res.body.cached === false)).toHaveLength(1);
      expect(new Set(answers.map((res) => res.body.checkedAt)).size).toBe(1);
    });

    it('folds IPv4-mapped IPv6 to IPv4 and answers IPv6 in canonical form', async () => {
      const v4 = freshPublicIp();
      const mapped = await s.get(ipPath(`::ffff:${v4}`)).expect(200);
      expect(mapped.body).toMatchObject({ ip: v4, version: 4, scope: 'public' });
      expect(fake.requests.at(-1)?.ipAddress).toBe(v4);

      const v6 = await s.get(ipPath('2001:4860:4860:0:0:0:0:8888')).expect(200);
      expect(v6.body).toMatchObject({ ip: '2001:4860:4860::8888', version: 6, scope: 'public' });
      expect(fake.requests.at(-1)?.ipAddress).toBe('2001:4860:4860::8888');

      const upper = await s.get(ipPath('2001:4860:4860::8888'.toUpperCase())).expect(200);
      expect(upper.body).toMatchObject({ ip: '2001:4860:4860::8888', cached: true });
    });

    it.each([
      ['192.168.1.1', 'private', 4],
      ['10.0.0.1', 'private', 4],
      ['127.0.0.1', 'loopback', 4],
      ['169.254.10.20', 'link-local', 4],
      ['224.0.0.251', 'multicast', 4],
      ['100.64.0.1', 'carrier-grade-nat', 4],
      ['192.0.2.10', 'documentation', 4],
      ['0.0.0.0', 'unspecified', 4],
      ['255.255.255.255', 'broadcast', 4],
      ['::ffff:192.168.1.1', 'private', 4],
      ['::1', 'loopback', 6],
      ['fe80::1', 'link-local', 6],
      ['ff02::1', 'multicast', 6],
      ['fd12:3456:789a::1', 'unique-local', 6],
      ['2001:db8::1', 'documentation', 6],
    ])(
      'answers not-applicable for %s (%s) without asking any provider or storing it',
      async (address, scope, version) => {
        const calls = fake.callCount;
        const res = await s.get(ipPath(address)).expect(200);

        expect(res.body).toMatchObject({
          version,
          scope,
          score: null,
          verdict: 'not-applicable',
          sources: [],
          cached: false,
          stale: false,
        });
        expect(fake.callCount).toBe(calls);
        const history = await s.get(ipPath(address, '/history')).expect(200);
        expect(history.body.items).toEqual([]);
      },
    );

    it.each([
      ['an octet above 255', '999.1.1.1'],
      ['three parts', '1.2.3'],
      ['zero padding', '01.02.03.04'],
      ['a CIDR range', '1.2.3.4/24'],
      ['an IPv6 range', '2001:db8::/32'],
      ['a word', 'abc'],
      ['a zone id', 'fe80::1%eth0'],
      ['a 5000-character string', '1'.repeat(5000)],
    ])('refuses %s with a 400 problem and no provider call', async (_name, address) => {
      const calls = fake.callCount;
      const res = await s.get(ipPath(address));
      expectProblem(res, 400);
      expect(res.body.detail.length).toBeLessThan(200);
      const history = await s.get(ipPath(address, '/history'));
      expectProblem(history, 400);
      expect(fake.callCount).toBe(calls);
    });

    it('refuses a CIDR range sent with its slash unencoded with the same 400, not a 404', async () => {
      const res = await s.get('/v1/ip/1.2.3.4/24');
      expectProblem(res, 400);
      expect(res.body.detail).toMatch(/CIDR/);
    });
  });

  describe('history', () => {
    it('appends a snapshot per fresh lookup and lists them newest first', async () => {
      const ip = freshPublicIp();
      fake.setScore(ip, { abuseConfidenceScore: 10 });
      await s.get(ipPath(ip)).expect(200);
      await s.get(ipPath(ip)).expect(200); // cached: no snapshot
      const one = await s.get(ipPath(ip, '/history')).expect(200);
      expect(one.body).toEqual({
        ip,
        items: [{ checkedAt: expect.any(String), score: 10, verdict: 'clean', sources: expect.any(Array) }],
      });

      // A report drops the cached answer: the next lookup is fresh and appends a second snapshot.
      fake.setScore(ip, { abuseConfidenceScore: 80 });
      await s.post(ipPath(ip, '/reports'), { categories: [18] }).expect(201);
      const fresh = await s.get(ipPath(ip)).expect(200);
      expect(fresh.body.cached).toBe(false);

      const two = await s.get(ipPath(ip, '/history')).expect(200);
      expect(two.body.items).toHaveLength(2);
      const [newest, oldest] = two.body.items;
      expect(newest.checkedAt).toBe(fresh.body.checkedAt);
      expect(newest.score).toBe(fresh.body.score);
      expect(newest.sources).toEqual(fresh.body.sources);
      expect(oldest.score).toBe(10);
      expect(Date.parse(newest.checkedAt)).toBeGreaterThanOrEqual(Date.parse(oldest.checkedAt));

      const limited = await s.get(ipPath(ip, '/history?limit=1')).expect(200);
      expect(limited.body.items).toEqual([newest]);
    });

    it('folds the address like a lookup does', async () => {
      const ip = freshPublicIp();
      await s.get(ipPath(ip)).expect(200);
      const res = await s.get(ipPath(`::ffff:${ip}`, '/history')).expect(200);
      expect(res.body.ip).toBe(ip);
      expect(res.body.items).toHaveLength(1);
    });

    it.each(['0', '101', 'abc', '1.5', '-1'])('refuses limit=%s', async (limit) => {
      expectProblem(await s.get(ipPath('8.8.8.8', `/history?limit=${limit}`)), 400);
    });

    it('refuses unknown query parameters', async () => {
      expectProblem(await s.get(ipPath('8.8.8.8', '/history?limit=5&cursor=x')), 400);
    });
  });

  describe('reports', () => {
    it('stores a report, answers 201 and counts it in the local source at once', async () => {
      const ip = freshPublicIp();
      await s.get(ipPath(ip)).expect(200); // now cached without reports

      const created = await s.post(ipPath(`::ffff:${ip}`, '/reports'), {
        categories: [22, 18],
        comment: 'SSH brute force against bastion-1',
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        ip,
        categories: [18, 22],
        comment: 'SSH brute force against bastion-1',
        createdAt: expect.any(String),
      });

      const after = await s.get(ipPath(ip)).expect(200);
      expect(after.body.cached).toBe(false);
      expect(after.body.sources.find((source: { provider: string }) => source.provider === 'local')).toMatchObject({
        score: 30,
        totalReports: 1,
        distinctReporters: 1,
        categories: [18, 22],
        lastReportedAt: created.body.createdAt,
      });
    });

    it('answers comment null when none is given', async () => {
      const res = await s.post(ipPath(freshPublicIp(), '/reports'), { categories: [4] }).expect(201);
      expect(res.body.comment).toBeNull();
    });

    it('refuses to report a non-public address', async () => {
      const res = await s.post(ipPath('192.168.1.1', '/reports'), { categories: [18] });
      expectProblem(res, 400);
      expect(res.body.detail).toMatch(/private/);
    });

    it('refuses an invalid address', async () => {
      expectProblem(await s.post(ipPath('01.02.03.04', '/reports'), { categories: [18] }), 400);
    });

    it.each([
      ['no categories', {}],
      ['an empty list', { categories: [] }],
      ['category 0', { categories: [0] }],
      ['category 24', { categories: [24] }],
      ['a fractional category', { categories: [1.5] }],
      ['a category as text', { categories: ['18'] }],
      ['a repeated category', { categories: [18, 18] }],
      ['31 categories', { categories: Array.from({ length: 31 }, (_, i) => (i % 23) + 1) }],
      ['a 1025-character comment', { categories: [18], comment: 'x'.repeat(1025) }],
      ['a non-text comment', { categories: [18], comment: 42 }],
      ['an unknown field', { categories: [18], severity: 'high' }],
    ])('refuses %s with field errors', async (_name, body) => {
      const res = await s.post(ipPath(freshPublicIp(), '/reports'), body);
      expectProblem(res, 400);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: expect.any(String) })]));
    });
  });

  describe('bulk lookup', () => {
    it('answers each item in order, with per-item errors, looking duplicates up once', async () => {
      const ip = freshPublicIp();
      fake.setScore(ip, { abuseConfidenceScore: 90 });
      const calls = fake.callCount;
      const inputs = [ip, 'abc', `::ffff:${ip}`, '10.0.0.1', '1.2.3.4/24', ip, '01.02.03.04'];

      const res = await s.post('/v1/ip/lookup', { ips: inputs }).expect(200);

      expect(fake.callCount).toBe(calls + 1);
      const items = res.body.items;
      expect(items).toHaveLength(inputs.length);
      expect(items[0]).toMatchObject({ ip, score: 90, verdict: 'malicious', cached: false });
      expect(items[2]).toEqual(items[0]);
      expect(items[5]).toEqual(items[0]);
      expect(items[3]).toMatchObject({ ip: '10.0.0.1', scope: 'private', verdict: 'not-applicable' });
      for (const index of [1, 4, 6]) {
        expect(items[index]).toEqual({
          input: inputs[index],
          error: { status: 400, title: 'Bad Request', detail: expect.any(String) },
        });
      }

      const single = await s.get(ipPath(ip)).expect(200);
      expect(single.body).toEqual({ ...items[0], cached: true });
    });

    it('asks the provider for at most 8 addresses at a time', async () => {
      const ips = Array.from({ length: 16 }, () => freshPublicIp());
      // Each call is held long enough for the first eight to overlap on a slow machine.
      fake.delay(750, ips.length);
      fake.resetMaxInFlight();
      const before = fake.requests.length;

      const res = await s.post('/v1/ip/lookup', { ips }).expect(200);

      expect(res.body.items.map((item: { ip: string }) => item.ip)).toEqual(ips);
      expect(fake.requests.slice(before)).toHaveLength(16);
      expect(fake.maxInFlight).toBe(8);
    });

    it.each([
      ['no ips', {}],
      ['an empty list', { ips: [] }],
      ['101 addresses', { ips: Array.from({ length: 101 }, (_, i) => `45.1.1.${i % 250}`) }],
      ['a non-string item', { ips: ['8.8.8.8', 42] }],
      ['an over-long item', { ips: ['1'.repeat(300)] }],
      ['an unknown field', { ips: ['8.8.8.8'], verbose: true }],
    ])('refuses %s', async (_name, body) => {
      expectProblem(await s.post('/v1/ip/lookup', body), 400);
    });
  });

  describe('authentication', () => {
    it.each([
      ['GET', ipPath('8.8.8.8')],
      ['GET', ipPath('8.8.8.8', '/history')],
      ['POST', ipPath('8.8.8.8', '/reports')],
      ['POST', '/v1/ip/lookup'],
    ])('%s %s needs a bearer token (401)', async (method, path) => {
      const calls = fake.callCount;
      const res =
        method === 'GET'
          ? await s.t.http().get(path)
          : await s.t
              .http()
              .post(path)
              .send({ ips: ['8.8.8.8'], categories: [1] });
      expectProblem(res, 401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      const forged = await s.t.http().get(ipPath('8.8.8.8')).set('Authorization', 'Bearer not-a-token');
      expectProblem(forged, 401);
      expect(fake.callCount).toBe(calls);
    });
  });

  it('documents every IP route in the OpenAPI document, with the bearer scheme', async () => {
    const res = await s.t.http().get('/docs-json').expect(200);
    const paths = res.body.paths as Record<string, Record<string, { security?: unknown[] }>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/v1/ip/{address}',
        '/v1/ip/{address}/history',
        '/v1/ip/{address}/reports',
        '/v1/ip/lookup',
      ]),
    );
    expect(paths['/v1/ip/{address}/{prefixLength}']).toBeUndefined();
    expect(paths['/v1/ip/{address}'].get.security).toEqual([{ bearer: [] }]);
    expect(res.body.components.schemas).toHaveProperty('IpReputation');
    expect(res.body.components.schemas.IpReputation.required).toEqual(
      expect.arrayContaining(['asn', 'asOrg', 'network', 'allowlisted']),
    );
    expect(Object.keys(paths)).toContain('/v1/ip/ranges/{cidr}');
  });
});

describe('IP reputation without AbuseIPDB (embedded default)', () => {
  let s: IpSuite;

  beforeAll(async () => {
    s = await startIpSuite(undefined);
  });
  afterAll(() => s?.t.close());

  // Revision 2 of the contract: with no broad-coverage source an unreported address is `unknown`
  // (not clean), a repeat report within 24 h does not count again, and reports alone stop at
  // suspicious (the third reporter's 90 is capped at 74).
  it('answers from the users’ reports alone: unknown, then 1, 2, 3 distinct reporters → 30, 60, 74 (capped)', async () => {
    const ip = freshPublicIp();
    const first = await s.get(ipPath(ip)).expect(200);
    expect(first.body).toMatchObject({
      score: null,
      verdict: 'unknown',
      sources: [{ provider: 'local', score: null }],
    });

    const reporters = [s.user, await registerUser(s.t), await registerUser(s.t)];
    const expected = [
      [30, 30, 'suspicious'],
      [60, 60, 'suspicious'],
      [90, 74, 'suspicious'],
    ];
    for (const [index, reporter] of reporters.entries()) {
      const as = suiteFor(s.t, reporter);
      await as.post(ipPath(ip, '/reports'), { categories: [18] }).expect(201);
      // The same user reporting again still counts once.
      await as.post(ipPath(ip, '/reports'), { categories: [22] }).expect(201);
      const res = await as.get(ipPath(ip)).expect(200);
      const [localScore, score, verdict] = expected[index];
      expect(res.body).toMatchObject({ score, verdict, cached: false });
      expect(res.body.sources).toEqual([
        expect.objectContaining({
          provider: 'local',
          score: localScore,
          totalReports: index + 1,
          distinctReporters: index + 1,
          categories: [18, 22],
        }),
      ]);
    }
  });

  it('refuses a token of another deployment', async () => {
    const other = await startIpSuite(undefined, { JWT_SECRET: 'another-secret-that-is-long-enough-0123456789abcdef' });
    try {
      const res = await other.t.http().get(ipPath('8.8.8.8')).set(bearer(s.user));
      expectProblem(res, 401);
    } finally {
      await other.t.close();
    }
  });
});

describe('IP bulk lookups count each address against IP_RATE_LIMIT_PER_MINUTE', () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD] });
  let s: IpSuite;

  beforeAll(async () => {
    await fake.start();
    s = await startIpSuite(fake, { IP_RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => {
    await s?.t.close();
    await fake.close();
  });

  it('refuses a batch larger than the limit whole, before any provider call', async () => {
    const calls = fake.callCount;
    const res = await s.post('/v1/ip/lookup', { ips: Array.from({ length: 6 }, () => freshPublicIp()) });
    expectProblem(res, 429);
    expect(res.body.type).toMatch(/rate-limited$/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(fake.callCount).toBe(calls);
  });

  it('draws single and bulk lookups from one per-user budget; duplicates and invalid items are free', async () => {
    const user = suiteFor(s.t, await registerUser(s.t));
    const [a, b, c] = [freshPublicIp(), freshPublicIp(), freshPublicIp()];
    // 3 distinct addresses (a twice, once mapped) + 2 invalid items = 3 of 5.
    await user.post('/v1/ip/lookup', { ips: [a, b, c, `::ffff:${a}`, 'abc', '1.2.3'] }).expect(200);
    const fourth = await user.get(ipPath(freshPublicIp())).expect(200); // 4
    // The per-user throttler's headers carry its name (docs/api.md, Conventions), beside the per-IP ones.
    expect(fourth.headers['x-ratelimit-limit-ip']).toBe('5');
    expect(fourth.headers['x-ratelimit-remaining-ip']).toBe('1');
    expect(Number(fourth.headers['x-ratelimit-reset-ip'])).toBeGreaterThan(0);
    expect(fourth.headers['x-ratelimit-limit']).toBe(s.t.env.RATE_LIMIT_PER_MINUTE);
    await user.get(ipPath(freshPublicIp())).expect(200); // 5
    const limited = await user.get(ipPath(freshPublicIp()));
    expectProblem(limited, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // Another user has a budget of their own.
    const other = suiteFor(s.t, await registerUser(s.t));
    await other.post('/v1/ip/lookup', { ips: [a, b, c, freshPublicIp(), freshPublicIp()] }).expect(200);
  });
});
