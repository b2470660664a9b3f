import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.types';
import { parseIpAddress, ParsedIp } from './ip-address';
import type { Assessment } from './ip-assessment';
import { IpAssessmentService } from './ip-assessment.service';
import { IpLookupLimiter } from '../rate-limit/ip-lookup-limiter.service';
import type { ProviderAnswer } from './ip-reputation.types';
import { DEGRADED_CACHE_TTL_MS, IpReputationService } from './ip-reputation.service';
import { FreshReputation, IpResultCache } from './ip-result-cache';
import { IpSnapshotsRepository } from './repositories/ip-snapshots.repository';
import { IpAllowlistService } from './allowlist/ip-allowlist.service';
import { IpEnrichmentService } from './enrichment/ip-enrichment.service';
import type { IpEnrichment } from './enrichment/ip-enrichment-data';
import type { IpVerdictNotifier, VerdictChange } from './ip-verdict-notifier';

const ALLOWLISTED = '8.8.8.8';
const ENRICHMENT: IpEnrichment = {
  asn: 15169,
  asOrg: 'Google LLC',
  network: '8.8.4.0/24',
  country: 'US',
  usageType: 'hosting',
};

const SIX_HOURS_MS = 6 * 60 * 60 * 1000;
const CHECKED_AT = new Date('2030-06-01T12:00:00.000Z');

function answer(fields: Partial<ProviderAnswer> = {}): ProviderAnswer {
  return {
    provider: 'abuseipdb',
    score: 10,
    hasData: true,
    totalReports: 1,
    lastReportedAt: null,
    categories: [],
    fetchedAt: CHECKED_AT.toISOString(),
    ...fields,
  };
}

/** A result cache that always computes, remembering the TTL each answer was given. */
class RecordingResultCache {
  readonly stored: FreshReputation[] = [];

  async getOrCompute(_ip: string, compute: () => Promise<FreshReputation>) {
    const fresh = await compute();
    this.stored.push(fresh);
    return { value: fresh.value, cached: false };
  }
}

describe('IpReputationService', () => {
  let sources: ProviderAnswer[];
  let assessed: ParsedIp[];
  let cache: RecordingResultCache;
  let sut: IpReputationService;
  let previousVerdict: Assessment['previousVerdict'];
  let notifier: {
    recorded: string[];
    changes: Array<[VerdictChange, string | undefined]>;
    recordLookup(userId: string, ip: string): void;
    verdictChanged(change: VerdictChange, initiator: string | undefined): Promise<void>;
  };

  beforeEach(() => {
    sources = [answer()];
    previousVerdict = undefined;
    notifier = {
      recorded: [],
      changes: [],
      recordLookup(userId, ip) {
        notifier.recorded.push(`${userId} ${ip}`);
      },
      async verdictChanged(change, initiator) {
        notifier.changes.push([change, initiator]);
      },
    };
    assessed = [];
    cache = new RecordingResultCache();
    const assessments = {
      assess: async (ip: ParsedIp): Promise<Assessment> => {
        assessed.push(ip);
        return { score: 10, verdict: 'clean', sources, checkedAt: CHECKED_AT, isTor: null, previousVerdict };
      },
    } as unknown as IpAssessmentService;
    const config = {
      get: (path: string) => (path === 'ipIntel.cacheTtlMs' ? SIX_HOURS_MS : undefined),
    } as unknown as ConfigService<AppConfig, true>;
    sut = new IpReputationService(
      assessments,
      cache as unknown as IpResultCache,
      {} as IpSnapshotsRepository,
      {} as IpLookupLimiter,
      { lookup: async () => ENRICHMENT } as unknown as IpEnrichmentService,
      {
        match: async (ip: ParsedIp) => (ip.ip === ALLOWLISTED ? { value: `${ip.ip}/32` } : undefined),
      } as unknown as IpAllowlistService,
      notifier as unknown as IpVerdictNotifier,
      config,
    );
  });

  it('notes who looked the address up, and reports a changed verdict (not an unchanged one)', async () => {
    const user = { id: 'user-1', email: 'a@example.com', role: 'user' as const };
    await sut.lookup('8.8.4.1', user);
    expect(notifier.recorded).toEqual(['user-1 8.8.4.1']);
    expect(notifier.changes).toEqual([]);
    previousVerdict = 'clean';
    await sut.lookup('8.8.4.2', user);
    expect(notifier.changes).toEqual([]);
    previousVerdict = 'malicious';
    await sut.lookup('8.8.4.3', user);
    expect(notifier.changes).toEqual([
      [{ ip: '8.8.4.3', previousVerdict: 'malicious', verdict: 'clean', score: 10, checkedAt: CHECKED_AT }, 'user-1'],
    ]);
  });

  it('answers an allowlisted address clean without assessing or caching it', async () => {
    const res = await sut.lookup(ALLOWLISTED);
    expect(res).toMatchObject({
      ip: ALLOWLISTED,
      score: 0,
      verdict: 'clean',
      allowlisted: true,
      sources: [],
      asn: 15169,
    });
    expect(assessed).toEqual([]);
    expect(cache.stored).toEqual([]);
  });

  it('adds the offline enrichment to a fresh answer (AbuseIPDB details first)', async () => {
    const res = await sut.lookup('8.8.4.4');
    expect(res).toMatchObject({
      asn: 15169,
      asOrg: 'Google LLC',
      network: '8.8.4.0/24',
      country: 'US',
      isp: 'Google LLC',
    });
    expect(res).toMatchObject({ usageType: 'hosting', allowlisted: false });
    sources = [
      answer({ details: { country: 'DE', isp: 'X', usageType: 'Fixed Line ISP', domain: null, isTor: false } }),
    ];
    expect(await sut.lookup('8.8.4.5')).toMatchObject({
      country: 'DE',
      isp: 'X',
      usageType: 'Fixed Line ISP',
      asn: 15169,
    });
  });

  it('caches a healthy answer for IP_CACHE_TTL', async () => {
    await sut.lookup('8.8.4.4');
    expect(cache.stored[0].ttlMs).toBe(SIX_HOURS_MS);
  });

  it('caches an answer with a failed source for at most a minute', async () => {
    sources = [answer({ score: null, hasData: false, error: 'timeout' })];
    await sut.lookup('8.8.4.4');
    expect(cache.stored[0].ttlMs).toBe(DEGRADED_CACHE_TTL_MS);
  });

  it('caches an answer with a stale stand-in for at most a minute', async () => {
    sources = [answer({ stale: true, error: 'unavailable' })];
    await sut.lookup('8.8.4.4');
    expect(cache.stored[0].ttlMs).toBe(DEGRADED_CACHE_TTL_MS);
  });

  it('caches without the per-request `cached` flag', async () => {
    const res = await sut.lookup('8.8.4.4');
    expect(res.cached).toBe(false);
    expect(cache.stored[0].value).not.toHaveProperty('cached');
  });

  it('never assesses nor caches a non-public address', async () => {
    const res = await sut.lookup('::ffff:10.1.2.3');
    expect(res).toMatchObject({ ip: '10.1.2.3', verdict: 'not-applicable', score: null });
    expect(assessed).toEqual([]);
    expect(cache.stored).toEqual([]);
  });

  it('assesses the canonical address', async () => {
    await sut.lookup('2001:4860:4860:0:0:0:0:8888');
    expect(assessed).toEqual([parseIpAddress('2001:4860:4860::8888')]);
  });
});
