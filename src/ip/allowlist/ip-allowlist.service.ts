import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../../config/config.types';
import { IpEnrichmentService } from '../enrichment/ip-enrichment.service';
import type { ParsedIp } from '../ip-address';
import { IpAllowlistEntry } from '../entities/ip-allowlist-entry.entity';
import { IpAllowlistRepository } from '../repositories/ip-allowlist.repository';
import { AllowlistMatcher, AllowlistRule, canonicalAllowlistValue } from './allowlist-matcher';

/** How often each replica re-reads the admin entries (a change made on this replica applies at once). */
export const ALLOWLIST_REFRESH_MS = 10_000;

export interface NewAllowlistValue {
  value: string;
  note?: string | null;
  expiresAt?: Date | null;
}

/**
 * The allowlist (docs/api.md, "Allowlist"): IP_ALLOWLIST plus the admin entries of the
 * `ip_allowlist` table. An allowlisted address is clean with score 0 and no source is asked.
 * Checked before the result cache on every lookup, in memory (a prefix-trie walk, and the AS
 * number from the offline data when AS entries exist), so a new entry needs no cache purge.
 */
@Injectable()
export class IpAllowlistService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IpAllowlistService.name);
  private readonly envRules: AllowlistRule[];
  private matcher: AllowlistMatcher;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly entries: IpAllowlistRepository,
    private readonly enrichment: IpEnrichmentService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.envRules = config.get('ipIntel.allowlist', { infer: true }).flatMap((raw) => {
      const canonical = canonicalAllowlistValue(raw);
      return canonical === undefined ? [] : [{ value: canonical.value }];
    });
    this.matcher = new AllowlistMatcher(this.envRules);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), ALLOWLIST_REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The rule that allowlists the address now, if any. */
  async match(ip: ParsedIp): Promise<AllowlistRule | undefined> {
    const matcher = this.matcher;
    if (matcher.size === 0) return undefined;
    const asn = matcher.hasAsnRules ? await this.enrichment.asnOf(ip.bytes) : null;
    return matcher.match(ip.bytes, asn, Date.now());
  }

  /** IP_ALLOWLIST's entries (canonical), for the admin view. */
  get configured(): readonly string[] {
    return this.envRules.map((rule) => rule.value);
  }

  list(): Promise<IpAllowlistEntry[]> {
    return this.entries.listAll();
  }

  /** Stores an admin entry (the value must already be canonical) and applies it on this replica at once. */
  async add(fields: NewAllowlistValue, createdBy: string | null): Promise<IpAllowlistEntry> {
    const entry = await this.entries.create({
      value: fields.value,
      note: fields.note ?? null,
      expiresAt: fields.expiresAt ?? null,
      createdBy,
    });
    await this.refresh();
    return entry;
  }

  async remove(id: string): Promise<boolean> {
    const removed = await this.entries.deleteById(id);
    if (removed) await this.refresh();
    return removed;
  }

  /** Rebuilds the matcher from IP_ALLOWLIST and the table; keeps the previous one when the database fails. */
  private async refresh(): Promise<void> {
    try {
      const stored = await this.entries.listAll();
      const rules = [
        ...this.envRules,
        ...stored.map((entry) => ({ value: entry.value, expiresAt: entry.expiresAt?.getTime() })),
      ];
      this.matcher = new AllowlistMatcher(rules);
    } catch (error) {
      this.logger.warn({ msg: 'ip allowlist not refreshed; keeping the previous entries', err: error });
    }
  }
}
