import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHash } from 'node:crypto';
import { OutboundHttpService } from '../../outbound-http/outbound-http.service';
import { UpstreamRejectedError } from '../../outbound-http/outbound-http.errors';
import { AppConfig } from '../../config/config.types';
import { MetricsService } from '../../metrics/metrics.service';
import type { ParsedIp } from '../ip-address';
import type { ProviderAnswer } from '../ip-reputation.types';
import { KeyLease, KeyPause, KeyPauseReason, KeyRing } from './abuseipdb-key-ring';
import { parseAbuseIpDbCheck } from './abuseipdb-response';
import { IpIntelProvider, IpSourceError } from './ip-intel-provider';

export const ABUSEIPDB_PROVIDER = 'abuseipdb';
/** Reports older than this are not counted by AbuseIPDB for our answer. */
const MAX_AGE_IN_DAYS = 90;
/** One retry of a timeout / 5xx / network error per key: a lookup must answer promptly. */
const RETRIES = 1;

/**
 * AbuseIPDB APIv2 `GET /check` with key rotation (rules in abuseipdb-key-ring.ts). Every call goes
 * through the shared outbound client (timeout, retry, circuit breaker, metrics, X-Request-ID).
 * Keys are never logged or used as metric labels: they are named by 1-based position and a short
 * sha256 fingerprint.
 */
@Injectable()
export class AbuseIpDbProvider implements IpIntelProvider {
  readonly name = ABUSEIPDB_PROVIDER;
  private readonly logger = new Logger(AbuseIpDbProvider.name);
  private readonly ring: KeyRing;
  private readonly fingerprints: string[];
  private readonly checkUrl: string;
  private readonly timeoutMs: number;
  private readonly keyIds: string[];
  /** Requests left in each key's quota window, as AbuseIPDB last reported it. */
  private readonly remaining = new Map<number, number>();

  constructor(
    private readonly http: OutboundHttpService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const settings = config.get('ipIntel', { infer: true });
    this.ring = new KeyRing(settings.abuseIpDbKeys);
    this.fingerprints = settings.abuseIpDbKeys.map(fingerprint);
    this.keyIds = settings.abuseIpDbKeys.map((key) => `…${key.slice(-4)}`);
    this.checkUrl = `${settings.abuseIpDbBaseUrl.replace(/\/+$/, '')}/check`;
    this.timeoutMs = settings.timeoutMs;
  }

  async lookup(ip: ParsedIp): Promise<ProviderAnswer> {
    for (let lease = this.ring.pick(); lease !== undefined; lease = this.ring.pick()) {
      try {
        const response = await this.http.request(ABUSEIPDB_PROVIDER, {
          url: `${this.checkUrl}?ipAddress=${encodeURIComponent(ip.ip)}&maxAgeInDays=${MAX_AGE_IN_DAYS}&verbose`,
          headers: { Key: lease.key, Accept: 'application/json' },
          timeoutMs: this.timeoutMs,
          retries: RETRIES,
          retryOn429: false,
        });
        this.exportQuota(lease, response.headers);
        // A broad-coverage source: its "nothing against it" is what lets an address be clean (ip-scoring.ts).
        return { ...parseAbuseIpDbCheck(response.body, new Date()), kind: 'broad' };
      } catch (error) {
        if (!(error instanceof UpstreamRejectedError) || !this.rotatedAway(lease, error)) throw error;
      }
    }
    throw new IpSourceError('quota-exhausted', 'every AbuseIPDB key is rejected or out of quota');
  }

  /** Pauses the key after a 401 or 429 and answers true (try the next key); false for other rejections. */
  private rotatedAway(lease: KeyLease, error: UpstreamRejectedError): boolean {
    if (error.status === 401) {
      this.logPause(lease, this.ring.reject(lease.index), 'AbuseIPDB rejected an API key (401); key set aside');
      return true;
    }
    if (error.status === 429) {
      const headers = error.headers;
      if (headers) this.exportQuota(lease, headers);
      const pause = this.ring.rateLimited(lease.index, (name) => headers?.get(name) ?? undefined);
      this.logPause(lease, pause, 'AbuseIPDB rate-limited an API key (429); key set aside until its reset');
      return true;
    }
    return false;
  }

  private logPause(lease: KeyLease, pause: KeyPause, msg: string): void {
    this.logger.warn({
      msg,
      keyIndex: lease.index + 1,
      keyFingerprint: this.fingerprints[lease.index],
      reason: pause.reason,
      pausedUntil: new Date(pause.until).toISOString(),
      keysConfigured: this.ring.size,
    });
  }

  /** Each key as the admin view shows it (`GET /v1/admin/providers`): masked to its last 4 characters. */
  keyStates(): ProviderKeyState[] {
    return this.keyIds.map((id, index) => {
      const pause = this.ring.pauseOf(index);
      return {
        position: index + 1,
        key: id,
        state: pause === undefined ? 'active' : 'benched',
        benchedUntil: pause === undefined ? null : new Date(pause.until).toISOString(),
        benchedBecause: pause?.reason ?? null,
        remainingQuota: this.remaining.get(index) ?? null,
      };
    });
  }

  private exportQuota(lease: KeyLease, headers: Headers): void {
    const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
    if (Number.isFinite(remaining) && remaining >= 0) {
      this.remaining.set(lease.index, remaining);
      this.metrics.setProviderQuotaRemaining(ABUSEIPDB_PROVIDER, String(lease.index + 1), remaining);
    }
  }
}

export interface ProviderKeyState {
  /** 1-based position in ABUSEIPDB_API_KEY. */
  position: number;
  /** `…` and the key's last 4 characters. */
  key: string;
  state: 'active' | 'benched';
  benchedUntil: string | null;
  benchedBecause: KeyPauseReason | null;
  /** As AbuseIPDB last reported it (X-RateLimit-Remaining); null before the first answer. */
  remainingQuota: number | null;
}

/** `sha256:` and the first 8 hex digits: enough to tell keys apart in logs, useless to an attacker. */
function fingerprint(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}
