import { HttpException, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppError } from '../common/errors/app-error';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import { titleFor } from '../common/errors/problem';
import { AppConfig } from '../config/config.types';
import type { AuthenticatedUser } from '../auth/auth.types';
import { isPublicScope, ParsedIp } from './ip-address';
import { parseClientAddress } from './ip-address.input';
import { IpAllowlistService } from './allowlist/ip-allowlist.service';
import { IpEnrichmentService } from './enrichment/ip-enrichment.service';
import { allowlisted, isDegraded, notApplicable, toReputation } from './ip-assessment';
import { IpAssessmentService } from './ip-assessment.service';
import { IpLookupLimiter } from '../rate-limit/ip-lookup-limiter.service';
import type { IpHistory, IpLookupFailure, IpLookupItem, IpReputation } from './ip-reputation.types';
import { toSourceResult } from './ip-reputation.types';
import { FreshReputation, IpResultCache } from './ip-result-cache';
import { mapWithConcurrency } from './map-with-concurrency';
import { IpSnapshotsRepository } from './repositories/ip-snapshots.repository';
import { IpVerdictNotifier } from './ip-verdict-notifier';

/** Most addresses of one bulk lookup looked up at the same time (each may call every provider). */
export const BULK_CONCURRENCY = 8;
/**
 * An answer in which some source failed is cached at most this long, so a recovered provider shows
 * within a minute instead of after IP_CACHE_TTL.
 */
export const DEGRADED_CACHE_TTL_MS = 60_000;

/** Reputation lookups: single, bulk and history (docs/api.md, IP reputation). */
@Injectable()
export class IpReputationService {
  private readonly logger = new Logger(IpReputationService.name);
  private readonly cacheTtlMs: number;

  constructor(
    private readonly assessments: IpAssessmentService,
    private readonly results: IpResultCache,
    private readonly snapshots: IpSnapshotsRepository,
    private readonly limiter: IpLookupLimiter,
    private readonly enrichment: IpEnrichmentService,
    private readonly allowlist: IpAllowlistService,
    private readonly notifier: IpVerdictNotifier,
    config: ConfigService<AppConfig, true>,
  ) {
    this.cacheTtlMs = config.get('ipIntel.cacheTtlMs', { infer: true });
  }

  /** `GET /v1/ip/:address` (the user is noted for `ip.verdict_changed` webhooks). */
  lookup(address: string, user?: AuthenticatedUser): Promise<IpReputation> {
    return this.lookupParsed(parseClientAddress(address), user?.id);
  }

  /**
   * `POST /v1/ip/lookup`: one item per input, in order. Addresses are parsed first; distinct ones
   * (after canonicalisation, so `::ffff:1.2.3.4` and `1.2.3.4` are one) are counted against the
   * caller's per-minute limit, then looked up once each, at most BULK_CONCURRENCY at a time.
   */
  async lookupMany(user: AuthenticatedUser, inputs: readonly string[]): Promise<{ items: IpLookupItem[] }> {
    const parsed = inputs.map((input) => this.parseItem(input));
    const distinct = [
      ...new Map(parsed.flatMap((item) => ('ip' in item ? [[item.ip.ip, item.ip] as const] : []))).values(),
    ];
    await this.limiter.consumeBulk(user.id, distinct.length);

    const answers = new Map<string, IpLookupItem>();
    await mapWithConcurrency(distinct, BULK_CONCURRENCY, async (ip) => {
      answers.set(ip.ip, await this.lookupParsed(ip, user.id).catch((error: unknown) => this.failure(ip.ip, error)));
    });
    const items = parsed.map((item, index): IpLookupItem => {
      if (!('ip' in item)) return item.failure;
      const answer = answers.get(item.ip.ip) as IpLookupItem;
      return 'error' in answer ? { ...answer, input: inputs[index] } : answer;
    });
    return { items };
  }

  /** `GET /v1/ip/:address/history`: the address's snapshots, newest first. */
  async history(address: string, limit: number): Promise<IpHistory> {
    const ip = parseClientAddress(address);
    if (!isPublicScope(ip.scope)) return { ip: ip.ip, items: [] };
    const snapshots = await this.snapshots.listNewest(ip.ip, limit);
    return {
      ip: ip.ip,
      items: snapshots.map((snapshot) => ({
        checkedAt: snapshot.checkedAt.toISOString(),
        score: snapshot.score,
        verdict: snapshot.verdict,
        sources: snapshot.sources.map(toSourceResult),
      })),
    };
  }

  /**
   * The allowlist is asked before the cache (in memory, docs/api.md "Allowlist"): an allowlisted
   * address is answered clean without any source, and a new entry needs no cache purge.
   */
  private async lookupParsed(ip: ParsedIp, userId?: string): Promise<IpReputation> {
    if (!isPublicScope(ip.scope)) return notApplicable(ip, new Date());
    if (userId !== undefined) this.notifier.recordLookup(userId, ip.ip);
    if ((await this.allowlist.match(ip)) !== undefined) {
      return allowlisted(ip, await this.enrichment.lookup(ip.bytes), new Date());
    }
    const { value, cached } = await this.results.getOrCompute(ip.ip, () => this.fresh(ip, userId));
    return { ...value, cached };
  }

  private async fresh(ip: ParsedIp, userId: string | undefined): Promise<FreshReputation> {
    const [assessment, enrichment] = await Promise.all([this.assessments.assess(ip), this.enrichment.lookup(ip.bytes)]);
    const { previousVerdict, verdict, score, checkedAt } = assessment;
    if (previousVerdict !== undefined && previousVerdict !== verdict) {
      // Not awaited: queuing webhooks never delays (or fails) the answer.
      void this.notifier.verdictChanged({ ip: ip.ip, previousVerdict, verdict, score, checkedAt }, userId);
    }
    const { cached: _cached, ...value } = toReputation(ip, assessment, false, enrichment);
    // Enrichment still loading (the first seconds after start): fields null, so cache briefly too.
    const degraded = isDegraded(assessment.sources) || enrichment.pending === true;
    const ttlMs = degraded ? Math.min(this.cacheTtlMs, DEGRADED_CACHE_TTL_MS) : this.cacheTtlMs;
    return { value, ttlMs };
  }

  private parseItem(input: string): { ip: ParsedIp } | { failure: IpLookupFailure } {
    try {
      return { ip: parseClientAddress(input) };
    } catch (error) {
      return { failure: this.failure(input, error) };
    }
  }

  /** A bulk item's error, shaped like the problem a single lookup would have answered. */
  private failure(input: string, error: unknown): IpLookupFailure {
    if (error instanceof HttpException && error.getStatus() < 500) {
      return { input, error: { status: error.getStatus(), title: titleFor(error.getStatus()), detail: error.message } };
    }
    if (error instanceof AppError && error.status < 500) {
      return { input, error: { status: error.status, title: titleFor(error.status), detail: error.detail } };
    }
    if (isDatabaseUnavailable(error)) {
      const detail = 'The service is temporarily unavailable; retry shortly.';
      return { input, error: { status: 503, title: titleFor(503), detail } };
    }
    this.logger.error({ msg: 'bulk ip lookup item failed', err: error });
    return { input, error: { status: 500, title: titleFor(500), detail: 'An unexpected error occurred.' } };
  }
}
