import type { ProviderAnswer } from '../ip-reputation.types';
import { IpSourceError } from './ip-intel-provider';

const MAX_CATEGORY = 1000;

/**
 * Bounds on what AbuseIPDB says, applied before the answer is returned, cached or stored in a
 * snapshot: a DNS name is at most 253 characters (a longer `domain` is no domain), an ISP name is
 * cut there too, a usage type (a short fixed phrase) at 100; a date string longer than 64
 * characters is not a date. Only the first MAX_REPORTS verbose reports are read.
 */
export const MAX_DOMAIN_LENGTH = 253;
export const MAX_ISP_LENGTH = 253;
export const MAX_USAGE_TYPE_LENGTH = 100;
const MAX_DATE_LENGTH = 64;
const MAX_REPORTS = 10_000;
const MAX_CATEGORIES_PER_REPORT = 30;
const COUNTRY_CODE = /^[A-Za-z]{2}$/;
// eslint-disable-next-line no-control-regex -- control characters are what it removes
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

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
      country: countryCode(data.countryCode),
      isp: text(data.isp, MAX_ISP_LENGTH),
      usageType: text(data.usageType, MAX_USAGE_TYPE_LENGTH),
      domain: domain(data.domain),
      isTor: typeof data.isTor === 'boolean' ? data.isTor : null,
    },
  };
}

function reportCategories(reports: unknown): number[] {
  if (!Array.isArray(reports)) return [];
  const categories = new Set<number>();
  for (const report of reports.slice(0, MAX_REPORTS)) {
    if (!isRecord(report) || !Array.isArray(report.categories)) continue;
    for (const category of report.categories.slice(0, MAX_CATEGORIES_PER_REPORT)) {
      if (Number.isInteger(category) && category > 0 && category < MAX_CATEGORY) categories.add(category as number);
    }
  }
  return [...categories].sort((a, b) => a - b);
}

function nonNegativeInteger(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

function isoTime(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_DATE_LENGTH) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

/** Printable text of at most `maxLength` UTF-16 units (never half a character), or null. */
function text(value: unknown, maxLength: number): string | null {
  if (typeof value !== 'string') return null;
  // Bound the work first: what follows only ever shortens the text.
  let cleaned = clean(value.length > 4 * maxLength ? value.slice(0, 4 * maxLength) : value);
  if (cleaned.length > maxLength) {
    cleaned = cleaned.slice(0, maxLength);
    const last = cleaned.charCodeAt(cleaned.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) cleaned = cleaned.slice(0, -1);
    cleaned = cleaned.trim();
  }
  return cleaned === '' ? null : cleaned;
}

/** A name longer than a DNS name can be is not a domain: null rather than a cut-off one. */
function domain(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim().length > MAX_DOMAIN_LENGTH) return null;
  return text(value, MAX_DOMAIN_LENGTH);
}

function countryCode(value: unknown): string | null {
  return typeof value === 'string' && COUNTRY_CODE.test(value) ? value.toUpperCase() : null;
}

function clean(value: string): string {
  return value.replace(CONTROL_CHARACTERS, '').replace(LONE_SURROGATE, '\ufffd').trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
