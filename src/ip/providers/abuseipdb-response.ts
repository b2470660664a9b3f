import type { ProviderAnswer } from '../ip-reputation.types';
import { IpSourceError } from './ip-intel-provider';

const MAX_CATEGORY = 1000;

/**
 * Maps the body of AbuseIPDB's `GET /check?verbose` (`{ data: { abuseConfidenceScore, … } }`) to
 * the `abuseipdb` source. AbuseIPDB computes a confidence score for every public address (0 for one
 * it knows nothing bad about), so its answer always counts as data. Categories are the union of
 * the verbose reports' categories. Anything not shaped like that answer is a `bad-response`.
 */
export function parseAbuseIpDbCheck(body: unknown, fetchedAt: Date): ProviderAnswer {
  const data = isRecord(body) ? body.data : undefined;
  if (!isRecord(data) || typeof data.abuseConfidenceScore !== 'number' || !Number.isFinite(data.abuseConfidenceScore)) {
    throw new IpSourceError('bad-response', 'AbuseIPDB answered without data.abuseConfidenceScore');
  }
  return {
    provider: 'abuseipdb',
    score: Math.round(Math.min(100, Math.max(0, data.abuseConfidenceScore))),
    hasData: true,
    totalReports: nonNegativeInteger(data.totalReports),
    distinctReporters: nonNegativeInteger(data.numDistinctUsers),
    lastReportedAt: isoTime(data.lastReportedAt),
    categories: reportCategories(data.reports),
    fetchedAt: fetchedAt.toISOString(),
    details: {
      country: text(data.countryCode),
      isp: text(data.isp),
      usageType: text(data.usageType),
      domain: text(data.domain),
      isTor: typeof data.isTor === 'boolean' ? data.isTor : null,
    },
  };
}

function reportCategories(reports: unknown): number[] {
  if (!Array.isArray(reports)) return [];
  const categories = new Set<number>();
  for (const report of reports) {
    if (!isRecord(report) || !Array.isArray(report.categories)) continue;
    for (const category of report.categories) {
      if (Number.isInteger(category) && category > 0 && category < MAX_CATEGORY) categories.add(category as number);
    }
  }
  return [...categories].sort((a, b) => a - b);
}

function nonNegativeInteger(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

function isoTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
