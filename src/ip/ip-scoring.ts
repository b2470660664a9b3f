/*
 * How an address gets its score and verdict (docs/api.md, "Verdicts")
 * ===================================================================
 *
 * 1. Only evidence counts. A source is *counted* when it answered — now, or earlier through a
 *    stale answer standing in for a failing provider — and has data on the address (reports, a
 *    list hit, or a computed score such as AbuseIPDB's 0 for an address it knows nothing bad about).
 *    Failed sources with no earlier answer, and sources with nothing on the address (no local
 *    reports, not on a list), are left out: they neither lower nor raise the score.
 * 2. Score = the weighted mean of the counted sources' scores (weight 1 unless set; weight 0 makes
 *    a source informational only), raised to the score of any counted *decisive* source. A list or
 *    feed hit is decisive: one authoritative listing is enough, and other sources' silence cannot
 *    water it down. Scores are clamped to 0–100 and the result is rounded to an integer.
 * 3. Absence of evidence is not clean. A score below the suspicious threshold is `clean` only when
 *    a *broad-coverage* source (AbuseIPDB: it knows most of the Internet, so its silence means
 *    something) answered; otherwise the answer is `unknown` with a null score. The users' reports
 *    and lists that do not hold the address cannot vouch for it, and neither can a broad source
 *    that failed with no earlier answer (a provider outage must not turn every address "clean").
 *    No source answered at all → null, unknown. (An allowlisted address never reaches this rule:
 *    it is clean by decision — see ip-allowlist.service.ts.)
 * 4. Reports alone cannot condemn. When the only counted sources are the users' reports, the
 *    score is capped just below the malicious threshold: a few throwaway accounts can make an
 *    address `suspicious`, never `malicious`.
 * 5. Verdict: score ≥ maliciousAt → malicious; ≥ suspiciousAt → suspicious; otherwise clean.
 *    (Non-public addresses are never scored: the caller answers "not-applicable".)
 */

/** What kind of evidence a source gives (rules 3 and 4 above). */
export type SourceKind = 'broad' | 'list' | 'reports';

export interface SourceAnswer {
  provider: string;
  /** 0–100; null when the source has no data. */
  score: number | null;
  totalReports: number;
  lastReportedAt: string | null;
  categories: number[];
  fetchedAt: string;
  /** Set when the provider failed on this lookup. */
  error?: string;
  /** The answer comes from an earlier snapshot because the provider failed now. */
  stale?: boolean;
  /** The source knows something about the address (an answer with reports, a score, a list hit). */
  hasData: boolean;
  /** Share in the weighted mean; 1 when omitted. */
  weight?: number;
  /** When counted, its score is a floor for the final score (blocklist and feed hits). */
  decisive?: boolean;
  /** See SourceKind; a source without one is neither broad nor reports-only. */
  kind?: SourceKind;
}

export type IpVerdict = 'clean' | 'suspicious' | 'malicious' | 'unknown';

export interface VerdictThresholds {
  maliciousAt: number;
  suspiciousAt: number;
}

export interface AggregateResult {
  score: number | null;
  verdict: IpVerdict;
}

const MIN_SCORE = 0;
const MAX_SCORE = 100;
const DEFAULT_WEIGHT = 1;

export function aggregate(sources: readonly SourceAnswer[], thresholds: VerdictThresholds): AggregateResult {
  if (!sources.some(hasAnswered)) {
    return UNKNOWN;
  }
  const counted = sources.filter(isCounted);
  let score = Math.round(Math.max(weightedMean(counted), decisiveFloor(counted)));
  if (score < thresholds.suspiciousAt && !sources.some((source) => source.kind === 'broad' && hasAnswered(source))) {
    return UNKNOWN;
  }
  if (counted.every((source) => source.kind === 'reports')) {
    score = Math.min(score, thresholds.maliciousAt - 1);
  }
  return { score, verdict: verdictFor(score, thresholds) };
}

const UNKNOWN: AggregateResult = { score: null, verdict: 'unknown' };

export function verdictFor(score: number | null, thresholds: VerdictThresholds): IpVerdict {
  if (score === null) {
    return 'unknown';
  }
  if (score >= thresholds.maliciousAt) {
    return 'malicious';
  }
  return score >= thresholds.suspiciousAt ? 'suspicious' : 'clean';
}

function hasAnswered(source: SourceAnswer): boolean {
  return source.error === undefined || source.stale === true;
}

function isCounted(source: SourceAnswer): source is SourceAnswer & { score: number } {
  return hasAnswered(source) && source.hasData && source.score !== null && Number.isFinite(source.score);
}

function weightedMean(sources: ReadonlyArray<SourceAnswer & { score: number }>): number {
  let total = 0;
  let weights = 0;
  for (const source of sources) {
    const weight = Math.max(0, source.weight ?? DEFAULT_WEIGHT);
    total += weight * clampScore(source.score);
    weights += weight;
  }
  return weights > 0 ? total / weights : MIN_SCORE;
}

function decisiveFloor(sources: ReadonlyArray<SourceAnswer & { score: number }>): number {
  return sources
    .filter((source) => source.decisive === true)
    .reduce((floor, source) => Math.max(floor, clampScore(source.score)), MIN_SCORE);
}

function clampScore(score: number): number {
  return Math.min(MAX_SCORE, Math.max(MIN_SCORE, score));
}

/*
 * The `local` source: our users' own abuse reports
 * ================================================
 *
 *   score = min(100, round( Σ over distinct reporters r of 30 × 0.5^(age_r / 30 days) ))
 *
 * where age_r is the time since reporter r's most recent report of the address (a future date
 * counts as now). Each user counts once however often they report, so a single user can push an
 * address to at most 30 (suspicious, fading below 25 after about 8 days without a new report);
 * three distinct recent reporters reach 90 — which `aggregate` caps below the malicious threshold
 * when nothing but reports speaks against the address (rule 4). Old reports fade with a 30-day
 * half-life, so an address cleaned up months ago drifts back to 0.
 */

export const LOCAL_POINTS_PER_REPORTER = 30;
export const LOCAL_REPORT_HALF_LIFE_DAYS = 30;

const MS_PER_DAY = 24 * 60 * 60 * 1000;

export interface LocalReport {
  userId: string;
  categories: number[];
  createdAt: Date;
}

export interface LocalReportScore {
  /** 0 when there are no reports; the source then has no data on the address. */
  score: number;
  totalReports: number;
  distinctReporters: number;
  lastReportedAt: string | null;
  /** Every category any report named, ascending, each once. */
  categories: number[];
}

export function scoreLocalReports(reports: readonly LocalReport[], now: Date): LocalReportScore {
  const latestByReporter = latestReportTimes(reports);
  let points = 0;
  let latest: number | null = null;
  for (const reportedAt of latestByReporter.values()) {
    points += LOCAL_POINTS_PER_REPORTER * recencyWeight(reportedAt, now);
    latest = Math.max(latest ?? reportedAt, reportedAt);
  }
  return {
    score: Math.min(MAX_SCORE, Math.round(points)),
    totalReports: reports.length,
    distinctReporters: latestByReporter.size,
    lastReportedAt: latest === null ? null : new Date(latest).toISOString(),
    categories: [...new Set(reports.flatMap((report) => report.categories))].sort((a, b) => a - b),
  };
}

/** Epoch ms of each reporter's most recent report. */
function latestReportTimes(reports: readonly LocalReport[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const report of reports) {
    const time = report.createdAt.getTime();
    latest.set(report.userId, Math.max(time, latest.get(report.userId) ?? time));
  }
  return latest;
}

function recencyWeight(reportedAt: number, now: Date): number {
  const ageDays = Math.max(0, now.getTime() - reportedAt) / MS_PER_DAY;
  return 0.5 ** (ageDays / LOCAL_REPORT_HALF_LIFE_DAYS);
}
