import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheModule } from '../cache/cache.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { OutboundHttpModule } from '../outbound-http/outbound-http.module';
import { AppConfig } from '../config/config.types';
import { IpAdminController } from './admin/ip-admin.controller';
import { IpAdminService } from './admin/ip-admin.service';
import { IpAllowlistService } from './allowlist/ip-allowlist.service';
import { IpEnrichmentService } from './enrichment/ip-enrichment.service';
import { IpAllowlistEntry } from './entities/ip-allowlist-entry.entity';
import { IpLookup } from './entities/ip-lookup.entity';
import { IpReport } from './entities/ip-report.entity';
import { IpVerdictNotifier } from './ip-verdict-notifier';
import { IpLookupsRepository } from './repositories/ip-lookups.repository';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { IpFeedsService } from './feeds/ip-feeds.service';
import { IpSnapshot } from './entities/ip-snapshot.entity';
import { IpAssessmentService } from './ip-assessment.service';
import { IpController } from './ip.controller';
import { IpReportsService } from './ip-reports.service';
import { IpRangesService } from './ip-ranges.service';
import { IpReputationService } from './ip-reputation.service';
import { IpResultCache } from './ip-result-cache';
import { AbuseIpDbProvider } from './providers/abuseipdb.provider';
import { BlocklistProvider } from './providers/blocklist.provider';
import { IP_INTEL_PROVIDERS, IpIntelProvider } from './providers/ip-intel-provider';
import { LocalReportsProvider } from './providers/local-reports.provider';
import { IpAllowlistRepository } from './repositories/ip-allowlist.repository';
import { IpReportsRepository } from './repositories/ip-reports.repository';
import { IpSnapshotsRepository } from './repositories/ip-snapshots.repository';

/**
 * IP reputation (docs/api.md). Sources: `abuseipdb` when ABUSEIPDB_API_KEY is set, `local` (the
 * users' reports) always, `blocklist` when IP_BLOCKLISTS is set, `feed:<name>` hits of IP_FEEDS;
 * offline enrichment (ASN, country, hosting) and the allowlist always.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([IpSnapshot, IpReport, IpAllowlistEntry, IpLookup]),
    WebhooksModule,
    OutboundHttpModule,
    CacheModule,
    MetricsModule,
    RateLimitModule,
  ],
  controllers: [IpController, IpAdminController],
  providers: [
    IpReputationService,
    IpRangesService,
    IpAdminService,
    IpVerdictNotifier,
    IpLookupsRepository,
    IpReportsService,
    IpAssessmentService,
    IpResultCache,
    IpSnapshotsRepository,
    IpReportsRepository,
    IpAllowlistRepository,
    IpEnrichmentService,
    IpAllowlistService,
    IpFeedsService,
    AbuseIpDbProvider,
    LocalReportsProvider,
    BlocklistProvider,
    {
      provide: IP_INTEL_PROVIDERS,
      inject: [ConfigService, AbuseIpDbProvider, LocalReportsProvider, BlocklistProvider],
      useFactory: (
        config: ConfigService<AppConfig, true>,
        abuseIpDb: AbuseIpDbProvider,
        local: LocalReportsProvider,
        blocklist: BlocklistProvider,
      ): IpIntelProvider[] => {
        const { abuseIpDbKeys, blocklists } = config.get('ipIntel', { infer: true });
        return [...(abuseIpDbKeys.length > 0 ? [abuseIpDb] : []), local, ...(blocklists.length > 0 ? [blocklist] : [])];
      },
    },
  ],
})
export class IpModule {}
