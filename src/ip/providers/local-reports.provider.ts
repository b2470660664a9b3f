import { Injectable } from '@nestjs/common';
import type { ParsedIp } from '../ip-address';
import type { ProviderAnswer } from '../ip-reputation.types';
import { scoreLocalReports } from '../ip-scoring';
import { IpReportsRepository } from '../repositories/ip-reports.repository';
import { IpIntelProvider } from './ip-intel-provider';

export const LOCAL_PROVIDER = 'local';
/**
 * Only the newest reports are scored: the formula counts each reporter's latest report, and a
 * report this far down the list is old enough (or from a reporter counted already) not to matter.
 */
export const SCORED_REPORTS_LIMIT = 1000;

/**
 * The users' own abuse reports (`POST /v1/ip/:address/reports`), scored by the formula in
 * ip-scoring.ts (recency and distinct reporters); on their own they can make an address
 * suspicious, never malicious. `totalReports` counts one report per reporter per address per 24 h.
 * Reports that have faded to a score of 0 are shown but do not count as data, so they never
 * dilute the other sources.
 */
@Injectable()
export class LocalReportsProvider implements IpIntelProvider {
  readonly name = LOCAL_PROVIDER;

  constructor(private readonly reports: IpReportsRepository) {}

  async lookup(ip: ParsedIp): Promise<ProviderAnswer> {
    const [recent, total] = await Promise.all([
      this.reports.listNewestForIp(ip.ip, SCORED_REPORTS_LIMIT),
      this.reports.countForIp(ip.ip),
    ]);
    const now = new Date();
    const scored = scoreLocalReports(recent, now);
    return {
      provider: LOCAL_PROVIDER,
      score: total > 0 ? scored.score : null,
      hasData: scored.score > 0,
      kind: 'reports',
      totalReports: total,
      distinctReporters: scored.distinctReporters,
      lastReportedAt: scored.lastReportedAt,
      categories: scored.categories,
      fetchedAt: now.toISOString(),
    };
  }
}
