import {
  allowlisted,
  assess,
  isDegraded,
  kindOfProvider,
  notApplicable,
  resolveSources,
  SourceOutcome,
  toReputation,
} from './ip-assessment';
import { parseIpAddress } from './ip-address';
import type { ProviderAnswer } from './ip-reputation.types';
import type { IpEnrichment } from './enrichment/ip-enrichment-data';

const THRESHOLDS = { maliciousAt: 75, suspiciousAt: 25 };
const NOW = new Date('2030-06-01T12:00:00.000Z');
const EARLIER = '2030-05-30T08:00:00.000Z';
const ENRICHMENT: IpEnrichment = {
  asn: 15169,
  asOrg: 'Google LLC',
  network: '8.8.8.0/24',
  country: 'US',
  usageType: 'hosting',
};

function answer(provider: string, fields: Partial<ProviderAnswer> = {}): ProviderAnswer {
  return {
    provider,
    score: 40,
    hasData: true,
    totalReports: 3,
    lastReportedAt: EARLIER,
    categories: [18],
    fetchedAt: NOW.toISOString(),
    ...fields,
  };
}

const failed = (provider: string, error: 'timeout' | 'unavailable' = 'timeout'): SourceOutcome => ({
  provider,
  error,
  failedAt: NOW.toISOString(),
});

describe('resolveSources', () => {
  const sut = resolveSources;

  it('keeps fresh answers as they are', () => {
    const fresh = answer('abuseipdb');
    expect(sut([{ provider: 'abuseipdb', answer: fresh }])).toEqual([fresh]);
  });

  it("stands in the failed provider's earlier answer, marked stale with the current error", () => {
    const earlier = answer('abuseipdb', { score: 90, fetchedAt: EARLIER });
    const [resolved] = sut([failed('abuseipdb')], [answer('local'), earlier]);
    // An answer stored before sources declared their kind gets it from the provider's name.
    expect(resolved).toEqual({ ...earlier, kind: 'broad', stale: true, error: 'timeout' });
  });

  it('carries a stand-in forward again when the provider is still failing', () => {
    const standIn = { ...answer('abuseipdb', { fetchedAt: EARLIER }), stale: true, error: 'timeout' };
    const [resolved] = sut([failed('abuseipdb', 'unavailable')], [standIn]);
    expect(resolved).toMatchObject({ fetchedAt: EARLIER, stale: true, error: 'unavailable', score: 40 });
  });

  it('lists a failed provider with no earlier answer with its error only', () => {
    const earlierFailure = { ...answer('abuseipdb'), score: null, hasData: false, error: 'timeout' };
    const [resolved] = sut([failed('abuseipdb')], [earlierFailure]);
    expect(resolved).toEqual({
      provider: 'abuseipdb',
      score: null,
      hasData: false,
      totalReports: 0,
      lastReportedAt: null,
      categories: [],
      fetchedAt: NOW.toISOString(),
      error: 'timeout',
      kind: 'broad',
    });
  });
});

describe('kindOfProvider', () => {
  it.each([
    ['abuseipdb', 'broad'],
    ['local', 'reports'],
    ['blocklist', 'list'],
    ['feed:firehol_level1', 'list'],
    ['something-else', undefined],
  ])('%s → %s', (provider, kind) => {
    expect(kindOfProvider(provider)).toBe(kind);
  });
});

describe('assess', () => {
  it('scores stale stand-ins like answers and ignores bare failures', () => {
    const sources = resolveSources(
      [failed('abuseipdb'), { provider: 'local', answer: answer('local', { score: 30 }) }, failed('other')],
      [answer('abuseipdb', { score: 90 })],
    );
    expect(assess(sources, THRESHOLDS, NOW)).toMatchObject({ score: 60, verdict: 'suspicious' });
  });

  it('answers unknown when nothing answered', () => {
    expect(assess(resolveSources([failed('abuseipdb')]), THRESHOLDS, NOW)).toMatchObject({
      score: null,
      verdict: 'unknown',
    });
  });
});

describe('isDegraded', () => {
  it('is true when any source failed now, stand-in or not', () => {
    expect(isDegraded([answer('local')])).toBe(false);
    expect(isDegraded([answer('local'), { ...answer('abuseipdb'), stale: true, error: 'timeout' }])).toBe(true);
    expect(isDegraded(resolveSources([failed('abuseipdb')]))).toBe(true);
  });
});

describe('toReputation', () => {
  const parsed = parseIpAddress('::ffff:8.8.8.8');

  it('builds the response with network details from the source that has them', () => {
    const details = {
      country: 'US',
      isp: 'Google LLC',
      usageType: 'Content Delivery Network',
      domain: 'google.com',
      isTor: false,
    };
    const sources = [
      answer('abuseipdb', { score: 0, details, distinctReporters: 1, kind: 'broad' }),
      answer('local', { score: null, hasData: false, kind: 'reports' }),
    ];
    const reputation = toReputation(parsed, assess(sources, THRESHOLDS, NOW), true, ENRICHMENT);
    expect(reputation).toEqual({
      ip: '8.8.8.8',
      version: 4,
      scope: 'public',
      score: 0,
      verdict: 'clean',
      ...details,
      asn: 15169,
      asOrg: 'Google LLC',
      network: '8.8.8.0/24',
      allowlisted: false,
      sources: [
        {
          provider: 'abuseipdb',
          score: 0,
          totalReports: 3,
          distinctReporters: 1,
          lastReportedAt: EARLIER,
          categories: [18],
          fetchedAt: NOW.toISOString(),
        },
        {
          provider: 'local',
          score: null,
          totalReports: 3,
          lastReportedAt: EARLIER,
          categories: [18],
          fetchedAt: NOW.toISOString(),
        },
      ],
      cached: true,
      stale: false,
      checkedAt: NOW.toISOString(),
    });
  });

  it('falls back on the offline enrichment without provider details, and takes isTor from the tor feed', () => {
    const sources = [answer('local', { score: 30, kind: 'reports' })];
    const reputation = toReputation(parsed, assess(sources, THRESHOLDS, NOW, true), false, ENRICHMENT);
    expect(reputation).toMatchObject({
      country: 'US',
      isp: 'Google LLC',
      usageType: 'hosting',
      domain: null,
      isTor: true,
      asn: 15169,
      network: '8.8.8.0/24',
    });
  });

  it('marks the response stale when a source is a stand-in, and hides scoring internals', () => {
    const sources = resolveSources([failed('abuseipdb')], [answer('abuseipdb', { decisive: true, weight: 2 })]);
    const reputation = toReputation(parsed, assess(sources, THRESHOLDS, NOW), false);
    expect(reputation.stale).toBe(true);
    expect(reputation.sources[0]).toMatchObject({ stale: true, error: 'timeout', score: 40 });
    expect(reputation.sources[0]).not.toHaveProperty('hasData');
    expect(reputation.sources[0]).not.toHaveProperty('decisive');
    expect(reputation.sources[0]).not.toHaveProperty('weight');
  });
});

describe('notApplicable', () => {
  it('answers without a score or sources', () => {
    expect(notApplicable(parseIpAddress('192.168.1.1'), NOW)).toEqual({
      ip: '192.168.1.1',
      version: 4,
      scope: 'private',
      score: null,
      verdict: 'not-applicable',
      country: null,
      isp: null,
      usageType: null,
      domain: null,
      isTor: null,
      asn: null,
      asOrg: null,
      network: null,
      allowlisted: false,
      sources: [],
      cached: false,
      stale: false,
      checkedAt: NOW.toISOString(),
    });
  });
});

describe('allowlisted', () => {
  it('answers clean, score 0, no sources, with the enrichment', () => {
    expect(allowlisted(parseIpAddress('8.8.8.8'), ENRICHMENT, NOW)).toMatchObject({
      score: 0,
      verdict: 'clean',
      allowlisted: true,
      sources: [],
      asn: 15169,
      country: 'US',
      usageType: 'hosting',
    });
  });
});
