import type { ParsedIp } from './ip-address';
import type { IpReputation, NetworkDetails, ProviderAnswer } from './ip-reputation.types';
import { toSourceResult } from './ip-reputation.types';
import { aggregate, IpVerdict, SourceKind, VerdictThresholds } from './ip-scoring';
import { IpEnrichment, NO_ENRICHMENT } from './enrichment/ip-enrichment-data';
import type { IpSourceErrorCode } from './providers/ip-intel-provider';

/** What asking one provider gave: its answer, or the safe code of its failure. */
export type SourceOutcome =
  { provider: string; answer: ProviderAnswer } | { provider: string; error: IpSourceErrorCode; failedAt: string };

/** Everything a fresh lookup concluded, before it is cached or stored. */
export interface Assessment {
  score: number | null;
  verdict: IpVerdict;
  /** Stored in the snapshot as they are: scoring fields included, so they can stand in later. */
  sources: ProviderAnswer[];
  checkedAt: Date;
  /** From the `tor` feed: listed, loaded and not listed, or no such feed (null). */
  isTor: boolean | null;
  /** The verdict of the address's previous snapshot, when it has one (for `ip.verdict_changed`). */
  previousVerdict?: IpVerdict;
}

const NO_DETAILS: NetworkDetails = { country: null, isp: null, usageType: null, domain: null, isTor: null };

/** A stored answer that can stand in for its provider: it answered then (fresh, or itself a stand-in). */
export function isUsableAnswer(answer: ProviderAnswer): boolean {
  return answer.error === undefined || answer.stale === true;
}

/**
 * Stale-if-error, per source (docs/api.md, IP reputation): a failed provider's answer from the address's latest
 * snapshot stands in for it, marked `stale` and carrying the current failure's code in `error`
 * (its `fetchedAt` says how old it is); with no earlier answer the source is listed with its error only.
 */
export function resolveSources(
  outcomes: readonly SourceOutcome[],
  previous: readonly ProviderAnswer[] = [],
): ProviderAnswer[] {
  return outcomes.map((outcome) => {
    if ('answer' in outcome) return outcome.answer;
    const earlier = previous.find((answer) => answer.provider === outcome.provider && isUsableAnswer(answer));
    // Snapshots written before sources declared their kind get it from the provider's name.
    if (earlier) return { kind: kindOfProvider(earlier.provider), ...earlier, stale: true, error: outcome.error };
    return {
      provider: outcome.provider,
      score: null,
      hasData: false,
      totalReports: 0,
      lastReportedAt: null,
      categories: [],
      fetchedAt: outcome.failedAt,
      error: outcome.error,
      kind: kindOfProvider(outcome.provider),
    };
  });
}

/** The kind of evidence each provider gives (ip-scoring.ts). */
export function kindOfProvider(provider: string): SourceKind | undefined {
  if (provider === 'abuseipdb') return 'broad';
  if (provider === 'local') return 'reports';
  if (provider === 'blocklist' || provider.startsWith('feed:')) return 'list';
  return undefined;
}

/** Scores the sources with the rule in ip-scoring.ts. */
export function assess(
  sources: ProviderAnswer[],
  thresholds: VerdictThresholds,
  checkedAt: Date,
  isTor: boolean | null = null,
): Assessment {
  const { score, verdict } = aggregate(sources, thresholds);
  return { score, verdict, sources, checkedAt, isTor };
}

/** True when some source failed now (stand-in or not): such an answer is cached only briefly. */
export function isDegraded(sources: readonly ProviderAnswer[]): boolean {
  return sources.some((source) => source.error !== undefined || source.stale === true);
}

/**
 * The response for an assessed public address (`cached` is decided by the caller). Network
 * details: a provider's (AbuseIPDB's) where it gave them, else the offline datasets' (`isp` is
 * then the AS organisation, `usageType` `hosting` for hosting networks or null); `isTor` from the
 * `tor` feed first.
 */
export function toReputation(
  parsed: ParsedIp,
  assessment: Assessment,
  cached: boolean,
  enrichment: IpEnrichment = NO_ENRICHMENT,
): IpReputation {
  const details = assessment.sources.find((source) => source.details !== undefined)?.details ?? NO_DETAILS;
  return {
    ip: parsed.ip,
    version: parsed.version,
    scope: parsed.scope,
    score: assessment.score,
    verdict: assessment.verdict,
    country: details.country ?? enrichment.country,
    isp: details.isp ?? enrichment.asOrg,
    usageType: details.usageType ?? enrichment.usageType,
    domain: details.domain,
    isTor: assessment.isTor === true ? true : (details.isTor ?? assessment.isTor),
    asn: enrichment.asn,
    asOrg: enrichment.asOrg,
    network: enrichment.network,
    allowlisted: false,
    sources: assessment.sources.map(toSourceResult),
    cached,
    stale: assessment.sources.some((source) => source.stale === true),
    checkedAt: assessment.checkedAt.toISOString(),
  };
}

/**
 * The response for an allowlisted public address: clean, score 0, no source asked (docs/api.md,
 * "Allowlist"); the offline enrichment still describes it.
 */
export function allowlisted(parsed: ParsedIp, enrichment: IpEnrichment, checkedAt: Date): IpReputation {
  return {
    ip: parsed.ip,
    version: parsed.version,
    scope: parsed.scope,
    score: 0,
    verdict: 'clean',
    country: enrichment.country,
    isp: enrichment.asOrg,
    usageType: enrichment.usageType,
    domain: null,
    isTor: null,
    asn: enrichment.asn,
    asOrg: enrichment.asOrg,
    network: enrichment.network,
    allowlisted: true,
    sources: [],
    cached: false,
    stale: false,
    checkedAt: checkedAt.toISOString(),
  };
}

/** The response for an address outside public unicast space: never scored, never sent anywhere. */
export function notApplicable(parsed: ParsedIp, checkedAt: Date): IpReputation {
  return {
    ip: parsed.ip,
    version: parsed.version,
    scope: parsed.scope,
    score: null,
    verdict: 'not-applicable',
    ...NO_DETAILS,
    ...NO_ENRICHMENT_FIELDS,
    allowlisted: false,
    sources: [],
    cached: false,
    stale: false,
    checkedAt: checkedAt.toISOString(),
  };
}

const NO_ENRICHMENT_FIELDS = { asn: null, asOrg: null, network: null } as const;
