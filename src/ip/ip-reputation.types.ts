import type { IpScope, IpVersion } from './ip-address';
import type { IpVerdict, SourceAnswer } from './ip-scoring';

/** What a source knows about who holds an address (AbuseIPDB fills it; lists and reports do not). */
export interface NetworkDetails {
  /** ISO 3166-1 alpha-2 country code. */
  country: string | null;
  isp: string | null;
  usageType: string | null;
  domain: string | null;
  isTor: boolean | null;
}

/**
 * One source's answer as a provider returns it and as a snapshot stores it: the scoring fields of
 * `SourceAnswer` (hasData, weight, decisive, which the rule in ip-scoring.ts reads) plus what the
 * response shows. JSON-safe, so a stored answer can stand in for a failing provider later.
 */
export interface ProviderAnswer extends SourceAnswer {
  /** How many different reporters the reports come from, where the source knows it. */
  distinctReporters?: number;
  /** Names of the lists that contain the address (the `blocklist` source). */
  lists?: string[];
  /** A feed's hit (`feed:<name>` sources): always true, a feed that does not list the address is not shown. */
  listed?: boolean;
  details?: NetworkDetails;
}

/** One entry of `sources` in a response (docs/api.md, IP reputation). */
export interface IpSourceResult {
  provider: string;
  /** 0–100; null when the source has no data on the address or failed without an earlier answer. */
  score: number | null;
  totalReports: number;
  distinctReporters?: number;
  lastReportedAt: string | null;
  categories: number[];
  fetchedAt: string;
  lists?: string[];
  listed?: boolean;
  /** A short, safe failure code (`timeout`, `unavailable`, `circuit-open`, …). */
  error?: string;
  /** This answer comes from the address's latest snapshot because the provider failed now. */
  stale?: boolean;
}

export type IpReputationVerdict = IpVerdict | 'not-applicable';

/** The answer of `GET /v1/ip/:address` (docs/api.md, "IP reputation"). */
export interface IpReputation extends NetworkDetails {
  ip: string;
  version: IpVersion;
  scope: IpScope;
  score: number | null;
  verdict: IpReputationVerdict;
  /** From the offline datasets (docs/api.md, "Offline enrichment"); null where they have nothing. */
  asn: number | null;
  asOrg: string | null;
  network: string | null;
  /** On the allowlist (IP_ALLOWLIST or an admin entry): clean by decision, no source asked. */
  allowlisted: boolean;
  sources: IpSourceResult[];
  /** True when no provider was asked for this request (cache hit, or a concurrent lookup shared). */
  cached: boolean;
  /** True when at least one source's answer is a stale stand-in. */
  stale: boolean;
  checkedAt: string;
}

/** One element of `GET /v1/ip/:address/history`. */
export interface IpHistoryItem {
  checkedAt: string;
  score: number | null;
  verdict: IpVerdict;
  sources: IpSourceResult[];
}

export interface IpHistory {
  ip: string;
  items: IpHistoryItem[];
}

export interface IpReportView {
  id: string;
  ip: string;
  categories: number[];
  comment: string | null;
  createdAt: string;
}

/** A bulk item that could not be answered, shaped like a problem without the request fields. */
export interface IpLookupFailure {
  input: string;
  error: { status: number; title: string; detail: string };
}

export type IpLookupItem = IpReputation | IpLookupFailure;

/** The public view of a stored or fresh answer: scoring internals and network details left out. */
export function toSourceResult(answer: ProviderAnswer): IpSourceResult {
  return {
    provider: answer.provider,
    score: answer.error !== undefined && !answer.stale ? null : answer.score,
    totalReports: answer.totalReports,
    ...(answer.distinctReporters !== undefined ? { distinctReporters: answer.distinctReporters } : {}),
    lastReportedAt: answer.lastReportedAt,
    categories: answer.categories,
    fetchedAt: answer.fetchedAt,
    ...(answer.lists !== undefined ? { lists: answer.lists } : {}),
    ...(answer.listed !== undefined ? { listed: answer.listed } : {}),
    ...(answer.error !== undefined ? { error: answer.error } : {}),
    ...(answer.stale ? { stale: true } : {}),
  };
}
