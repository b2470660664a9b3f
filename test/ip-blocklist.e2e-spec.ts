import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbuseIpDbFake } from './fakes/abuseipdb-fake';
import { eventually, GOOD_KEY, ipPath, IpSuite, startIpSuite } from './ip-test-kit';
import { parsedLogs } from './support/test-app';
import { servicesMode } from './support/test-app';

const FIREHOL = `#
# firehol_level1
# ipv4 hash:net ipset
#
# Maintainer      : FireHOL
# Entries         : 3 subnets
#
45.12.0.0/16
185.220.101.0/24
203.0.114.17
`;

const SPAMHAUS_DROP = `; Spamhaus DROP List 2030/06/01 - (c) 2030 The Spamhaus Project SLC
; Last-Modified: Sat, 01 Jun 2030 12:00:00 GMT
; Expires: Sat, 01 Jun 2030 13:00:00 GMT
1.10.16.0/20 ; SBL256894
185.220.101.0/24 ; SBL999999
2a0e:fd80::/29 ; SBL424242
`;

const TOR_EXITS = `ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E
Published 2030-06-01 10:14:52
LastStatus 2030-06-01 11:00:00
ExitAddress 104.244.72.115 2030-06-01 11:03:05
`;

interface Source {
  provider: string;
  score: number | null;
  lists?: string[];
}

const blocklistSource = (body: { sources: Source[] }): Source | undefined =>
  body.sources.find((source) => source.provider === 'blocklist');

describe(`IP blocklists (FireHOL, Spamhaus DROP, Tor exits) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD_KEY] });
  const dir = mkdtempSync(join(tmpdir(), 'argus-blocklists-'));
  const firehol = join(dir, 'firehol_level1.netset');
  const drop = join(dir, 'spamhaus_drop.txt');
  const tor = join(dir, 'tor-exits.txt');
  let s: IpSuite;

  beforeAll(async () => {
    writeFileSync(firehol, FIREHOL);
    writeFileSync(drop, SPAMHAUS_DROP);
    writeFileSync(tor, TOR_EXITS);
    await fake.start();
    // No result cache: each lookup sees the lists as they are now.
    s = await startIpSuite(fake, { IP_BLOCKLISTS: [firehol, drop, tor].join(','), IP_CACHE_TTL: '0' });
  });
  afterAll(async () => {
    await s?.t.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs what it loaded from each list', () => {
    const loaded = parsedLogs(s.t).filter((line) => line.msg === 'blocklist loaded');
    expect(loaded).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ list: 'firehol_level1', entries: 3, invalidLines: 0 }),
        expect.objectContaining({ list: 'spamhaus_drop', entries: 3, invalidLines: 0 }),
        expect.objectContaining({ list: 'tor-exits', entries: 1, invalidLines: 0 }),
      ]),
    );
  });

  it('names the list that holds the address; a hit is malicious whatever AbuseIPDB says', async () => {
    fake.setScore('45.12.7.9', { abuseConfidenceScore: 0 });
    const res = await s.get(ipPath('45.12.7.9')).expect(200);

    expect(res.body).toMatchObject({ score: 100, verdict: 'malicious' });
    expect(blocklistSource(res.body)).toEqual({
      provider: 'blocklist',
      score: 100,
      totalReports: 0,
      lastReportedAt: null,
      categories: [],
      lists: ['firehol_level1'],
      fetchedAt: expect.any(String),
    });
  });

  it('names every list that holds the address, in configuration order', async () => {
    const res = await s.get(ipPath('185.220.101.33')).expect(200);
    expect(blocklistSource(res.body)?.lists).toEqual(['firehol_level1', 'spamhaus_drop']);
  });

  it('matches IPv6 networks and Tor exit addresses', async () => {
    const v6 = await s.get(ipPath('2a0e:fd87:1::1')).expect(200);
    expect(blocklistSource(v6.body)?.lists).toEqual(['spamhaus_drop']);
    const exit = await s.get(ipPath('::ffff:104.244.72.115')).expect(200);
    expect(blocklistSource(exit.body)?.lists).toEqual(['tor-exits']);
  });

  it('does not let a miss dilute the other sources', async () => {
    fake.setScore('45.13.0.1', { abuseConfidenceScore: 60 });
    const res = await s.get(ipPath('45.13.0.1')).expect(200);
    expect(res.body).toMatchObject({ score: 60, verdict: 'suspicious' });
    expect(blocklistSource(res.body)).toMatchObject({ score: null, lists: [] });
  });

  it('reloads a list when its file changes (rewritten in place or atomically replaced)', async () => {
    const listedNow = async (address: string): Promise<string[]> =>
      blocklistSource((await s.get(ipPath(address)).expect(200)).body)?.lists ?? [];
    expect(await listedNow('198.51.99.7')).toEqual([]);

    writeFileSync(firehol, `${FIREHOL}198.51.99.0/24\n`);
    await eventually(async () => ((await listedNow('198.51.99.7')).length > 0 ? true : undefined), 'in-place reload');
    expect(await listedNow('198.51.99.7')).toEqual(['firehol_level1']);

    const next = join(dir, 'firehol_level1.netset.tmp');
    writeFileSync(next, `${FIREHOL}198.51.98.0/24\n`);
    renameSync(next, firehol);
    await eventually(async () => ((await listedNow('198.51.98.7')).length > 0 ? true : undefined), 'atomic reload');
    expect(await listedNow('198.51.99.7')).toEqual([]);
    expect(await listedNow('45.12.0.1')).toEqual(['firehol_level1']);
  });

  it('keeps serving the previous entries when a reload fails', async () => {
    const warnings = (msg: string): number => parsedLogs(s.t).filter((line) => line.msg === msg).length;

    const garbageBefore = warnings('blocklist has no valid entry; keeping its previous entries');
    writeFileSync(drop, '<html><body>502 Bad Gateway</body></html>\n');
    await eventually(
      () => (warnings('blocklist has no valid entry; keeping its previous entries') > garbageBefore ? true : undefined),
      'the refused reload',
    );
    expect(blocklistSource((await s.get(ipPath('1.10.20.30')).expect(200)).body)?.lists).toEqual(['spamhaus_drop']);

    const missingBefore = warnings('blocklist unreadable; keeping its previous entries');
    unlinkSync(drop);
    await eventually(
      () => (warnings('blocklist unreadable; keeping its previous entries') > missingBefore ? true : undefined),
      'the failed read',
    );
    expect(blocklistSource((await s.get(ipPath('1.10.20.30')).expect(200)).body)?.lists).toEqual(['spamhaus_drop']);

    // The file comes back: it is picked up again.
    writeFileSync(drop, '1.10.16.0/20 ; SBL256894\n9.9.8.0/24 ; SBL1\n');
    await eventually(
      async () =>
        (blocklistSource((await s.get(ipPath('9.9.8.8')).expect(200)).body)?.lists ?? []).length > 0 ? true : undefined,
      'the restored list',
    );
  });
});
