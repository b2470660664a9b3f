import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbuseIpDbFake } from './fakes/abuseipdb-fake';
import {
  eventually,
  expectProblem,
  GOOD_KEY,
  ipPath,
  IpSuite,
  startIpSuite,
  suiteFor,
  waitForEnrichment,
} from './ip-test-kit';
import { registerUser } from './support/auth';
import { servicesMode } from './support/test-app';

const mode = servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite';
const GOOGLE_DNS = '8.8.8.8';
const GOOGLE_DNS_V6 = '2001:4860:4860::8888';

/**
 * Offline enrichment, honest verdicts, report weight and the allowlist (docs/api.md, "IP
 * reputation"). No network at run time: the datasets come from node_modules (npm ci is enough).
 */
describe(`IP enrichment and honest verdicts without a key — ${mode}`, () => {
  let s: IpSuite;

  beforeAll(async () => {
    s = await startIpSuite(undefined, { IP_ALLOWLIST: '45.60.0.0/16,AS13335', IP_CACHE_TTL: '0' });
    await waitForEnrichment(s);
  }, 150_000);
  afterAll(() => s?.t.close());

  it('describes a public address from the shipped datasets, and says unknown (not clean) without evidence', async () => {
    const res = await s.get(ipPath(GOOGLE_DNS)).expect(200);
    expect(res.body).toMatchObject({
      ip: GOOGLE_DNS,
      asn: 15169,
      asOrg: 'Google LLC',
      network: '8.8.8.0/24',
      country: 'US',
      isp: 'Google LLC',
      usageType: 'hosting',
      domain: null,
      isTor: null,
      allowlisted: false,
      score: null,
      verdict: 'unknown',
    });
  });

  it('describes IPv6 addresses too', async () => {
    const res = await s.get(ipPath(GOOGLE_DNS_V6)).expect(200);
    expect(res.body).toMatchObject({ asn: 15169, asOrg: 'Google LLC', country: 'US', usageType: 'hosting' });
    expect(res.body.network).toMatch(/^2001:4860:[0-9a-f:]*\/\d+$/);
    expect(res.body.verdict).toBe('unknown');
  });

  it('counts one report per reporter per 24 h, and reports alone never make an address malicious', async () => {
    const ip = '45.61.1.2';
    const reporters = [s, suiteFor(s.t, await registerUser(s.t)), suiteFor(s.t, await registerUser(s.t))];
    for (const reporter of reporters) {
      await reporter.post(ipPath(ip, '/reports'), { categories: [18] }).expect(201);
      await reporter.post(ipPath(ip, '/reports'), { categories: [15] }).expect(201);
    }
    const res = await s.get(ipPath(ip)).expect(200);
    expect(res.body).toMatchObject({ score: 74, verdict: 'suspicious' });
    expect(res.body.sources).toEqual([
      expect.objectContaining({ provider: 'local', score: 90, totalReports: 3, distinctReporters: 3 }),
    ]);
  });

  it('answers an allowlisted network clean, score 0, whatever the reports say', async () => {
    const ip = '45.60.9.9';
    await s.post(ipPath(ip, '/reports'), { categories: [18] }).expect(201);
    const res = await s.get(ipPath(ip)).expect(200);
    expect(res.body).toMatchObject({ score: 0, verdict: 'clean', allowlisted: true, sources: [], cached: false });
  });

  it('allowlists by AS number (AS13335 holds 1.1.1.1)', async () => {
    const res = await s.get(ipPath('1.1.1.1')).expect(200);
    expect(res.body).toMatchObject({ asn: 13335, verdict: 'clean', score: 0, allowlisted: true });
  });
});

describe(`IP verdicts with AbuseIPDB and the allowlist — ${mode}`, () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD_KEY] });
  let s: IpSuite;

  beforeAll(async () => {
    await fake.start();
    s = await startIpSuite(fake, { IP_ALLOWLIST: '45.62.0.0/24' });
    await waitForEnrichment(s);
  }, 150_000);
  afterAll(async () => {
    await s?.t.close();
    await fake.close();
  });

  it('is clean when the broad-coverage source answered with nothing against the address', async () => {
    fake.setScore('45.63.0.1', { abuseConfidenceScore: 0, countryCode: 'FR', isp: 'Provider ISP' });
    const res = await s.get(ipPath('45.63.0.1')).expect(200);
    // AbuseIPDB's own details win over the offline data; the AS fields still come from the datasets.
    expect(res.body).toMatchObject({
      score: 0,
      verdict: 'clean',
      country: 'FR',
      isp: 'Provider ISP',
      allowlisted: false,
    });
    expect(res.body.asn).toEqual(expect.any(Number));
  });

  it('asks no provider for an allowlisted address', async () => {
    fake.setScore('45.62.0.7', { abuseConfidenceScore: 100 });
    const calls = fake.callCount;
    const res = await s.get(ipPath('45.62.0.7')).expect(200);
    expect(res.body).toMatchObject({ score: 0, verdict: 'clean', allowlisted: true, sources: [] });
    expect(fake.callCount).toBe(calls);
  });

  it('lets reports add to AbuseIPDB’s evidence up to malicious', async () => {
    const ip = '45.63.0.2';
    fake.setScore(ip, { abuseConfidenceScore: 80 });
    for (const reporter of [s, suiteFor(s.t, await registerUser(s.t)), suiteFor(s.t, await registerUser(s.t))]) {
      await reporter.post(ipPath(ip, '/reports'), { categories: [18] }).expect(201);
    }
    const res = await s.get(ipPath(ip)).expect(200);
    expect(res.body).toMatchObject({ score: 85, verdict: 'malicious' });
  });
});

describe(`IP_ENRICHMENT_DIR replaces the shipped datasets — ${mode}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-enrichment-e2e-'));
  let s: IpSuite;

  beforeAll(async () => {
    const n = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
    writeFileSync(join(dir, 'asn-ipv4-num.csv'), `${n(45, 64, 0, 0)},${n(45, 64, 255, 255)},64496,Example Hosting\n`);
    writeFileSync(join(dir, 'asn-ipv6-num.csv'), '');
    writeFileSync(join(dir, 'geo-whois-asn-country-ipv4-num.csv'), `${n(45, 64, 0, 0)},${n(45, 64, 0, 255)},SE\n`);
    writeFileSync(join(dir, 'geo-whois-asn-country-ipv6-num.csv'), '');
    writeFileSync(join(dir, 'hosting-asns.txt'), 'AS64496\n');
    s = await startIpSuite(undefined, { IP_ENRICHMENT_DIR: dir, IP_CACHE_TTL: '0' });
    await eventually(
      async () => ((await s.get(ipPath('45.64.0.9')).expect(200)).body.asn !== null ? true : undefined),
      'the operator’s files to load',
      60_000,
    );
  }, 90_000);
  afterAll(async () => {
    await s?.t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers from the operator’s files', async () => {
    const res = await s.get(ipPath('45.64.0.9')).expect(200);
    expect(res.body).toMatchObject({
      asn: 64496,
      asOrg: 'Example Hosting',
      network: '45.64.0.0/16',
      country: 'SE',
      usageType: 'hosting',
    });
  });

  it('leaves fields without data null (Google’s resolver is not in these files)', async () => {
    const res = await s.get(ipPath(GOOGLE_DNS)).expect(200);
    expect(res.body).toMatchObject({
      asn: null,
      asOrg: null,
      network: null,
      country: null,
      isp: null,
      usageType: null,
    });
  });

  it('still refuses bad input with a problem', async () => {
    expectProblem(await s.get(ipPath('01.2.3.4')), 400);
  });
});
