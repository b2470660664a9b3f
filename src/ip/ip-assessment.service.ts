import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isDatabaseUnavailable } from '../common/errors/database-errors';
import { AppConfig } from '../config/config.types';
import type { ParsedIp } from './ip-address';
import { assess, Assessment, resolveSources, SourceOutcome } from './ip-assessment';
import { IpSnapshot } from './entities/ip-snapshot.entity';
import type { VerdictThresholds } from './ip-scoring';
import { IpFeedsService } from './feeds/ip-feeds.service';
import { IP_INTEL_PROVIDERS, IpIntelProvider } from './providers/ip-intel-provider';
import { sourceErrorCode } from './providers/source-error-code';
import { IpSnapshotsRepository } from './repositories/ip-snapshots.repository';

/**
 * One fresh lookup of a public address: every configured provider asked concurrently, failures
 * replaced by the address's previous answers where there are any (stale-if-error), the feeds'
 * hits added, the sources scored, and the result appended to the address's history. A provider failure never fails the
 * lookup.
 */
@Injectable()
export class IpAssessmentService {
  private readonly logger = new Logger(IpAssessmentService.name);
  private readonly thresholds: VerdictThresholds;

  constructor(
    @Inject(IP_INTEL_PROVIDERS) private readonly providers: IpIntelProvider[],
    private readonly snapshots: IpSnapshotsRepository,
    private readonly feeds: IpFeedsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const { maliciousAt, suspiciousAt } = config.get('ipIntel', { infer: true });
    this.thresholds = { maliciousAt, suspiciousAt };
  }

  async assess(ip: ParsedIp): Promise<Assessment> {
    const checkedAt = new Date();
    // The latest snapshot is read beside the providers: its answers stand in for failed ones, and
    // its verdict tells whether this lookup changed it.
    const [outcomes, latest] = await Promise.all([
      Promise.all(this.providers.map((provider) => this.ask(provider, ip))),
      this.latestSnapshot(ip.ip),
    ]);
    const previous = latest?.sources ?? [];
    // Feeds are in memory and never fail: only their hits are sources (docs/api.md, "Feeds").
    const sources = [...resolveSources(outcomes, previous), ...this.feeds.match(ip)];
    const assessment = assess(sources, this.thresholds, checkedAt, this.feeds.isTor(ip));
    if (latest !== undefined) assessment.previousVerdict = latest.verdict;
    await this.record(ip.ip, assessment);
    return assessment;
  }

  private async ask(provider: IpIntelProvider, ip: ParsedIp): Promise<SourceOutcome> {
    try {
      return { provider: provider.name, answer: await provider.lookup(ip) };
    } catch (error) {
      const code = sourceErrorCode(error);
      const fields = { msg: 'ip source failed', provider: provider.name, code, err: error };
      if (code === 'internal-error') this.logger.error(fields);
      else this.logger.warn(fields);
      return { provider: provider.name, error: code, failedAt: new Date().toISOString() };
    }
  }

  /** The address's latest snapshot; none when there is none or the database cannot say right now. */
  private async latestSnapshot(ip: string): Promise<IpSnapshot | undefined> {
    try {
      return (await this.snapshots.findLatest(ip)) ?? undefined;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.logger.warn({ msg: 'ip history unavailable; no stale answers to fall back on', err: error });
      return undefined;
    }
  }

  /** Appends the snapshot. A database outage loses this history row but not the answer. */
  private async record(ip: string, assessment: Assessment): Promise<void> {
    try {
      await this.snapshots.append({
        ip,
        score: assessment.score,
        verdict: assessment.verdict,
        sources: assessment.sources,
        checkedAt: assessment.checkedAt,
      });
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.logger.warn({ msg: 'ip snapshot not recorded: database unavailable', ip, err: error });
    }
  }
}
