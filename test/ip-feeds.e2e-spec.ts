import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FeedServer } from './fakes/feed-server';
import { eventually, expectProblem, ipPath, IpSuite, startIpSuite, suiteFor, waitForEnrichment } from './ip-test-kit';
import { registerUser } from './support/auth';
import { createTestApp, parsedLogs, servicesMode, TestApp } from './support/test-app';

const FIREHOL = `#
# firehol_level1
# ipv4 hash:net ipset
#
45.12.0.0/16
185.220.101.0/24
203.0.114.17
`;

const TOR_EXITS = `ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
Published 2030-06-01 10:14:52
LastStatus 2030-06-01 11:00:00
ExitAddress 104.244.72.115 2030-06-01 11:03:05
`;

/** Spamhaus DROP as published since 2024: JSON lines, a metadata line last. */
const SPAMHAUS_DROP_JSON = [
  '{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}',
  '{"cidr":"2a0e:fd80::/29","sblid":"SBL424242","rir":"ripencc"}',
  '{"type":"metadata","timestamp":1906700000,"size":2,"records":2,"copyright":"(c) 2030 The Spamhaus Project SLC"}',
].join('\n');

interface Source {
  provider: string;
  score: number | null;
  listed?: boolean;
}

const feedSources = (body: { sources: Source[] }): Source[] =>
  body.sources.filter((source) => source.provider.startsWith('feed:'));

describe(`IP feeds (IP_FEEDS: FireHOL, Tor, Spamhaus DROP JSON, file:) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const feeds = new FeedServer();
  const dir = mkdtempSync(join(tmpdir(), 'argus-feeds-'));
  const localList = join(dir, 'local.txt');
  let s: IpSuite;
  let env: Record<string, string>;

  beforeAll(async () => {
    await feeds.start();
    feeds.serve('firehol_level1.netset', FIREHOL);
    feeds.serve('torbulkexitlist', TOR_EXITS);
    feeds.serve('drop_v4.json', SPAMHAUS_DROP_JSON);
    writeFileSync(localList, '198.51.99.0/24\n45.65.0.0/16\n');
    env = {
      IP_FEEDS: [
        `firehol=${feeds.urlOf('firehol_level1.netset')}`,
        `tor=${feeds.urlOf('torbulkexitlist')}`,
        `drop=${feeds.urlOf('drop_v4.json')}`,
        `local=${pathToFileURL(localList).toString()}`,
      ].join(','),
      // No result cache: each lookup sees the feeds as they are now.
      IP_CACHE_TTL: '0',
    };
    s = await startIpSuite(undefined, env);
    await waitForEnrichment(s);
    await eventually(
      async () => (feedSources((await s.get(ipPath('1.10.20.30')).expect(200)).body).length > 0 ? true : undefined),
      'the first fetch of every feed',
      30_000,
    );
  }, 180_000);
  afterAll(async () => {
    await s?.t.close();
    await feeds.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a feed hit as its own source; one listing is enough for malicious', async () => {
    const res = await s.get(ipPath('45.12.7.9')).expect(200);
    expect(res.body).toMatchObject({ score: 100, verdict: 'malicious' });
    expect(feedSources(res.body)).toEqual([
      {
        provider: 'feed:firehol',
        score: 100,
        listed: true,
        totalReports: 0,
        lastReportedAt: null,
        categories: [],
        fetchedAt: expect.any(String),
      },
    ]);
  });

  it('reads Spamhaus DROP JSON lines (IPv4 and IPv6) and file: feeds', async () => {
    expect(feedSources((await s.get(ipPath('1.10.20.30')).expect(200)).body)).toEqual([
      expect.objectContaining({ provider: 'feed:drop', listed: true }),
    ]);
    expect(feedSources((await s.get(ipPath('2a0e:fd87:1::1')).expect(200)).body)).toEqual([
      expect.objectContaining({ provider: 'feed:drop' }),
    ]);
    expect(feedSources((await s.get(ipPath('45.65.3.3')).expect(200)).body)).toEqual([
      expect.objectContaining({ provider: 'feed:local' }),
    ]);
  });

  it('sets isTor from the tor feed: a Tor exit is suspicious, another address is isTor false', async () => {
    const exit = await s.get(ipPath('104.244.72.115')).expect(200);
    expect(exit.body).toMatchObject({ isTor: true, verdict: 'suspicious', score: 25 });
    expect(feedSources(exit.body)).toEqual([expect.objectContaining({ provider: 'feed:tor', score: 25 })]);
    const other = await s.get(ipPath('45.66.1.1')).expect(200);
    expect(other.body).toMatchObject({ isTor: false, verdict: 'unknown', score: null });
    expect(feedSources(other.body)).toEqual([]);
  });

  it('exports entries and age per feed', async () => {
    const metrics = (await s.t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/argus_ip_feed_entries\{feed="firehol"\} 3\b/);
    expect(metrics).toMatch(/argus_ip_feed_entries\{feed="drop"\} 2\b/);
    expect(metrics).toMatch(/argus_ip_feed_entries\{feed="local"\} 2\b/);
    expect(metrics).toMatch(/argus_ip_feed_age_seconds\{feed="tor"\} \d+/);
  });

  describe('range check GET /v1/ip/ranges/:cidr', () => {
    it('lists what Argus knows inside a /24: AS, country, feed entries, reported and looked-up addresses', async () => {
      const other = suiteFor(s.t, await registerUser(s.t));
      await s.post(ipPath('45.12.7.20', '/reports'), { categories: [18] }).expect(201);
      await s.post(ipPath('45.12.7.20', '/reports'), { categories: [18] }).expect(201); // same reporter, same day
      await other.post(ipPath('45.12.7.20', '/reports'), { categories: [22] }).expect(201);
      await s.get(ipPath('45.12.7.9')).expect(200);
      await s.post(ipPath('45.12.8.1', '/reports'), { categories: [18] }).expect(201); // outside the /24

      const res = await s.get('/v1/ip/ranges/45.12.7.0%2F24').expect(200);
      expect(res.body).toEqual({
        network: '45.12.7.0/24',
        asn: expect.any(Number),
        asOrg: expect.any(String),
        country: expect.stringMatching(/^[A-Z]{2}$/),
        feeds: [{ feed: 'firehol', prefix: '45.12.0.0/16' }],
        addresses: [
          { ip: '45.12.7.9', reports: 0, lastReportedAt: null, score: 100, verdict: 'malicious' },
          { ip: '45.12.7.20', reports: 2, lastReportedAt: expect.any(String), score: null, verdict: null },
        ],
      });
    });

    it('lists feed entries inside the range, and IPv6 /48 ranges', async () => {
      const narrow = await s.get('/v1/ip/ranges/185.220.101.0%2F25').expect(200);
      expect(narrow.body.feeds).toEqual([{ feed: 'firehol', prefix: '185.220.101.0/24' }]);
      const wide = await s.get('/v1/ip/ranges/203.0.114.0%2F24').expect(200);
      expect(wide.body.feeds).toEqual([{ feed: 'firehol', prefix: '203.0.114.17/32' }]);
      const v6 = await s.get(`/v1/ip/ranges/${encodeURIComponent('2a0e:fd81:5::/48')}`).expect(200);
      expect(v6.body).toMatchObject({
        network: '2a0e:fd81:5::/48',
        feeds: [{ feed: 'drop', prefix: '2a0e:fd80::/29' }],
      });
    });

    it.each([
      ['wider than /24', '45.12.0.0%2F16'],
      ['wider than /48', encodeURIComponent('2a0e::/32')],
      ['not a CIDR', 'not-a-range'],
      ['private space', '10.0.0.0%2F24'],
    ])('refuses a range %s with 400', async (_case, cidr) => {
      expectProblem(await s.get(`/v1/ip/ranges/${cidr}`), 400);
    });

    it('needs a token', async () => {
      expectProblem(await s.t.http().get('/v1/ip/ranges/45.12.7.0%2F24'), 401);
    });
  });

  describe('a second replica on the same DATA_DIR', () => {
    let replica: TestApp | undefined;
    afterEach(async () => {
      await replica?.close();
      replica = undefined;
    });

    it('serves the last good copy at boot and refreshes conditionally (304, no body)', async () => {
      const before = feeds.requestsFor('firehol_level1.netset').length;
      replica = await createTestApp({ ...s.t.env, ...env }, { shareWith: s.t });
      const as = suiteFor(replica, s.user);
      // The copy is in use before any fetch of this replica finishes.
      expect(feedSources((await as.get(ipPath('45.12.7.10')).expect(200)).body)).toHaveLength(1);
      const conditional = await eventually(
        () =>
          feeds
            .requestsFor('firehol_level1.netset')
            .slice(before)
            .find((request) => request.answered === 304),
        'a 304 answer to the replica',
        30_000,
      );
      expect(conditional.headers['if-none-match']).toMatch(/^"[0-9a-f]{16}"$/);
    });

    it('keeps the last good copy when a fetch fails, is refused, or is too large', async () => {
      feeds.fail('firehol_level1.netset', { status: 503 });
      feeds.fail('drop_v4.json', { oversize: 33 * 1024 * 1024 });
      feeds.serve('torbulkexitlist', '<html><body>502 Bad Gateway</body></html>\n');
      try {
        // The logger is per process: the replica's lines may land in the first app's capture.
        const mark = s.t.logs.length;
        replica = await createTestApp({ ...s.t.env, ...env }, { shareWith: s.t });
        const started = replica;
        const logs = (): Record<string, unknown>[] => [...parsedLogs(s.t).slice(mark), ...parsedLogs(started)];
        await eventually(
          () =>
            logs().filter((line) => line.msg === 'ip feed fetch failed; keeping its last good copy').length >= 2 &&
            logs().some((line) => line.msg === 'ip feed refused; keeping its last good copy' && line.feed === 'tor')
              ? true
              : undefined,
          'the failed refresh',
          60_000,
        );
        const as = suiteFor(replica, s.user);
        expect(feedSources((await as.get(ipPath('45.12.7.11')).expect(200)).body)).toHaveLength(1);
        expect(feedSources((await as.get(ipPath('1.10.20.31')).expect(200)).body)).toHaveLength(1);
        expect((await as.get(ipPath('104.244.72.115')).expect(200)).body.isTor).toBe(true);
        const failures = logs().filter((line) => line.msg === 'ip feed fetch failed; keeping its last good copy');
        expect(failures).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ feed: 'firehol', error: 'HTTP 503', entries: 3 }),
            expect.objectContaining({ feed: 'drop', error: expect.stringMatching(/^too large/) }),
          ]),
        );
      } finally {
        feeds.clearFailures();
        feeds.serve('torbulkexitlist', TOR_EXITS);
      }
    });
  });
});
