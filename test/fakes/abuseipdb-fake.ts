import { ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { FakeServer, RecordedRequest, Script } from './fake-server';

export interface AbuseIpDbReport {
  reportedAt: string;
  comment: string;
  categories: number[];
  reporterId: number;
  reporterCountryCode: string;
  reporterCountryName: string;
}

/** `data` of `GET /api/v2/check`; `countryName` and `reports` only with `verbose`. */
export interface AbuseIpDbCheckData {
  ipAddress: string;
  isPublic: boolean;
  ipVersion: 4 | 6;
  isWhitelisted: boolean | null;
  abuseConfidenceScore: number;
  countryCode: string | null;
  countryName?: string | null;
  usageType: string | null;
  isp: string | null;
  domain: string | null;
  hostnames: string[];
  isTor: boolean;
  totalReports: number;
  numDistinctUsers: number;
  lastReportedAt: string | null;
  reports?: AbuseIpDbReport[];
}

/** What `setScore` may set; anything left out gets a plausible default. */
export type AbuseIpDbProfile = Partial<Omit<AbuseIpDbCheckData, 'ipAddress' | 'ipVersion'>>;

export interface AbuseIpDbRecordedRequest extends RecordedRequest {
  /** The `Key` header. */
  key: string | undefined;
  /** The `x-request-id` header (the app's correlation id). */
  requestId: string | undefined;
  /** The `ipAddress` query parameter. */
  ipAddress: string | undefined;
}

export interface AbuseIpDbFakeOptions {
  /** Keys accepted in the `Key` header. */
  validKeys: string[];
  /** Requests per key per UTC day before 429. Default 1000 (the free plan). */
  dailyLimit?: number;
}

type Action = { kind: 'fail'; status: number } | { kind: 'hang' };

const CHECK_PATH = '/api/v2/check';
const AUTH_FAILED =
  'Authentication failed. Your API key is either missing, incorrect, or revoked. Note: The APIv2 key differs from the APIv1 key.';
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/**
 * Speaks AbuseIPDB's APIv2 `GET /api/v2/check`. Point the app at `${fake.url}/api/v2`.
 *
 * Order per request: scripted delay → `Key` check (401) → daily quota (429) → the next scripted
 * step (5xx / hang) → `ipAddress` / `maxAgeInDays` validation (422) → 200. 401 and 429 consume
 * no scripted step. Every answer except scripted failures carries the key's `X-RateLimit-*` headers.
 */
export class AbuseIpDbFake extends FakeServer<AbuseIpDbRecordedRequest> {
  private readonly validKeys: Set<string>;
  private readonly dailyLimit: number;
  private readonly profiles = new Map<string, AbuseIpDbProfile>();
  private readonly usedToday = new Map<string, number>();
  private readonly script = new Script<Action>();
  private readonly delays = new Script<number>();

  constructor(options: AbuseIpDbFakeOptions) {
    super();
    this.validKeys = new Set(options.validKeys);
    this.dailyLimit = options.dailyLimit ?? 1000;
  }

  /** Requests received at `/api/v2/check` (every attempt, rejected ones included). */
  get callCount(): number {
    return this.requests.filter((r) => r.path === CHECK_PATH).length;
  }

  /** What the fake knows about `ip`. Unknown addresses score 0 with no reports. */
  setScore(ip: string, profile: AbuseIpDbProfile): this {
    this.profiles.set(ip, profile);
    return this;
  }

  /** Spends the key's daily quota: its next requests get 429 until `reset()`. */
  exhaustKey(key: string): this {
    this.usedToday.set(key, this.dailyLimit);
    return this;
  }

  /** Answer `status` (500, 503, ...) with AbuseIPDB's error shape, `times` times or always. */
  failWith(status: number, times?: number): this {
    this.script.add({ kind: 'fail', status }, times);
    return this;
  }

  /** Accept the request and never answer (until `close()`), `times` times or always. */
  hang(times?: number): this {
    this.script.add({ kind: 'hang' }, times);
    return this;
  }

  /** Wait `ms` before handling each of the next `times` requests (or every request). */
  delay(ms: number, times?: number): this {
    this.delays.add(ms, times);
    return this;
  }

  /** Forget scores, key usage, scripted behaviour and the request log. */
  reset(): void {
    this.profiles.clear();
    this.usedToday.clear();
    this.script.clear();
    this.delays.clear();
    this.requests.length = 0;
  }

  protected describe(req: RecordedRequest): AbuseIpDbRecordedRequest {
    return {
      ...req,
      key: req.headers['key'],
      requestId: req.headers['x-request-id'],
      ipAddress: req.query.get('ipAddress') ?? undefined,
    };
  }

  protected async handle(req: AbuseIpDbRecordedRequest, res: ServerResponse): Promise<void> {
    const delayMs = this.delays.next();
    if (delayMs !== undefined) await this.sleep(delayMs);

    if (req.method !== 'GET' || req.path !== CHECK_PATH) {
      return this.sendErrors(res, 404, 'The requested resource could not be found.');
    }
    const key = req.key;
    if (key === undefined || !this.validKeys.has(key)) {
      return this.sendErrors(res, 401, AUTH_FAILED, this.rateLimitHeaders(key ?? ''));
    }
    if ((this.usedToday.get(key) ?? 0) >= this.dailyLimit) {
      const headers = this.rateLimitHeaders(key);
      headers['Retry-After'] = String(secondsUntilReset());
      const detail = `Daily rate limit of ${this.dailyLimit} requests exceeded for this endpoint. See headers for additional details.`;
      return this.sendErrors(res, 429, detail, headers);
    }

    const action = this.script.next();
    if (action?.kind === 'hang') return; // never answered; close() destroys the socket
    if (action?.kind === 'fail') {
      const detail = action.status === 503 ? 'Service temporarily unavailable.' : 'Internal server error.';
      return this.sendErrors(res, action.status, detail);
    }

    this.usedToday.set(key, (this.usedToday.get(key) ?? 0) + 1);
    const headers = this.rateLimitHeaders(key);
    const ip = req.ipAddress;
    const ipVersion = ip ? isIP(ip) : 0;
    if (!ip || ipVersion === 0) {
      const detail = ip
        ? 'The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or 2001:4860:4860::8888).'
        : 'The ip address field is required.';
      return this.sendErrors(res, 422, detail, headers, 'ipAddress');
    }
    const maxAge = req.query.get('maxAgeInDays');
    if (maxAge !== null && !/^(?:[1-9]\d?|[12]\d\d|3[0-5]\d|36[0-5])$/.test(maxAge)) {
      return this.sendErrors(res, 422, 'The max age in days must be between 1 and 365.', headers, 'maxAgeInDays');
    }
    const data = this.checkData(ip, ipVersion === 6 ? 6 : 4, req.query.has('verbose'));
    this.sendJson(res, 200, { data }, headers);
  }

  private checkData(ip: string, ipVersion: 4 | 6, verbose: boolean): AbuseIpDbCheckData {
    const { reports, countryName, ...profile } = this.profiles.get(ip) ?? {};
    const totalReports = profile.totalReports ?? 0;
    const lastReportedAt = profile.lastReportedAt ?? (totalReports > 0 ? abuseIpDbTime(new Date()) : null);
    const countryCode = profile.countryCode === undefined ? 'US' : profile.countryCode;
    const data: AbuseIpDbCheckData = {
      ipAddress: ip,
      isPublic: true,
      ipVersion,
      isWhitelisted: false,
      abuseConfidenceScore: 0,
      countryCode,
      usageType: 'Data Center/Web Hosting/Transit',
      isp: 'Fake Hosting Ltd.',
      domain: 'fake-hosting.example',
      hostnames: [],
      isTor: false,
      numDistinctUsers: totalReports > 0 ? Math.ceil(totalReports / 2) : 0,
      ...profile,
      totalReports,
      lastReportedAt,
    };
    if (!verbose) return data;
    return {
      ...data,
      countryName: countryName !== undefined ? countryName : countryCode && regionNames.of(countryCode),
      reports: reports ?? sampleReports(Math.min(totalReports, 5), lastReportedAt),
    };
  }

  /** `X-RateLimit-*` for `key` as AbuseIPDB sends them; reset is the next UTC midnight (unix s). */
  private rateLimitHeaders(key: string): Record<string, string> {
    const remaining = Math.max(0, this.dailyLimit - (this.usedToday.get(key) ?? 0));
    return {
      'X-RateLimit-Limit': String(this.dailyLimit),
      'X-RateLimit-Remaining': String(remaining),
      'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + secondsUntilReset()),
    };
  }

  private sendErrors(
    res: ServerResponse,
    status: number,
    detail: string,
    headers: Record<string, string> = {},
    parameter?: string,
  ): void {
    const error = parameter ? { detail, status, source: { parameter } } : { detail, status };
    this.sendJson(res, status, { errors: [error] }, headers);
  }
}

function secondsUntilReset(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}

/** AbuseIPDB writes timestamps as `2024-05-01T12:03:24+00:00`. */
function abuseIpDbTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function sampleReports(count: number, lastReportedAt: string | null): AbuseIpDbReport[] {
  const last = lastReportedAt ? Date.parse(lastReportedAt) : Date.now();
  return Array.from({ length: count }, (_, i) => ({
    reportedAt: abuseIpDbTime(new Date(last - i * 3_600_000)),
    comment: 'SSH brute force attempts (fake report)',
    categories: [18, 22],
    reporterId: 1000 + i,
    reporterCountryCode: 'DE',
    reporterCountryName: 'Germany',
  }));
}
