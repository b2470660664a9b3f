import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../../config/config.types';
import { canonicalAllowlistValue } from '../allowlist/allowlist-matcher';
import { IpAllowlistService } from '../allowlist/ip-allowlist.service';
import { IpAllowlistEntry } from '../entities/ip-allowlist-entry.entity';
import { FeedView, IpFeedsService } from '../feeds/ip-feeds.service';
import { ABUSEIPDB_PROVIDER, AbuseIpDbProvider } from '../providers/abuseipdb.provider';
import type { AllowlistDto, AllowlistEntryDto, CreateAllowlistEntryDto, ProviderKeyDto } from './dto/ip-admin.dto';

const DAY_MS = 86_400_000;

/** The IP room's admin routes (docs/api.md, "Admin"): allowlist, feeds, provider keys. */
@Injectable()
export class IpAdminService {
  private readonly keyExpiry: Date | undefined;
  private readonly warnDays: number;
  private readonly abuseIpDbConfigured: boolean;

  constructor(
    private readonly allowlist: IpAllowlistService,
    private readonly feeds: IpFeedsService,
    private readonly abuseIpDb: AbuseIpDbProvider,
    config: ConfigService<AppConfig, true>,
  ) {
    const apiKeys = config.get('apiKeys', { infer: true });
    this.keyExpiry = apiKeys.expiresAt[ABUSEIPDB_PROVIDER];
    this.warnDays = apiKeys.warnDays;
    this.abuseIpDbConfigured = config.get('ipIntel.abuseIpDbKeys', { infer: true }).length > 0;
  }

  async listAllowlist(): Promise<AllowlistDto> {
    const entries = await this.allowlist.list();
    return { items: entries.map((entry) => toView(entry)), configured: [...this.allowlist.configured] };
  }

  async addToAllowlist(dto: CreateAllowlistEntryDto, adminId: string): Promise<AllowlistEntryDto> {
    const canonical = canonicalAllowlistValue(dto.value);
    if (canonical === undefined) {
      throw new BadRequestException('value must be a CIDR (e.g. 192.0.2.0/24), an IP address or AS<number>.');
    }
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt !== null && expiresAt.getTime() <= Date.now()) {
      throw new BadRequestException('expiresAt must be in the future.');
    }
    const entry = await this.allowlist.add({ value: canonical.value, note: dto.note ?? null, expiresAt }, adminId);
    return toView(entry);
  }

  async removeFromAllowlist(id: string): Promise<void> {
    if (!(await this.allowlist.remove(id))) throw new NotFoundException('No allowlist entry with this id.');
  }

  listFeeds(): { items: FeedView[] } {
    return { items: this.feeds.list() };
  }

  /** Every configured provider key: masked id, state (active / benched until / expiring), expiry, quota left. */
  listProviders(): { items: ProviderKeyDto[] } {
    if (!this.abuseIpDbConfigured) return { items: [] };
    const expiring = this.keyExpiry !== undefined && this.keyExpiry.getTime() - Date.now() < this.warnDays * DAY_MS;
    return {
      items: this.abuseIpDb.keyStates().map((key) => ({
        provider: ABUSEIPDB_PROVIDER,
        ...key,
        state: key.state === 'active' && expiring ? 'expiring' : key.state,
        expiresAt: this.keyExpiry?.toISOString() ?? null,
      })),
    };
  }
}

function toView(entry: IpAllowlistEntry): AllowlistEntryDto {
  return {
    id: entry.id,
    value: entry.value,
    note: entry.note,
    expiresAt: entry.expiresAt?.toISOString() ?? null,
    expired: entry.expiresAt !== null && entry.expiresAt.getTime() <= Date.now(),
    createdAt: entry.createdAt.toISOString(),
  };
}
