import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Stats, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AppConfig } from '../../config/config.types';
import { BlocklistMatcher, NamedBlocklist } from '../blocklist/blocklist-matcher';
import { blocklistNameFromFile, parseBlocklist } from '../blocklist/blocklist-parser';
import type { ParsedIp } from '../ip-address';
import type { ProviderAnswer } from '../ip-reputation.types';
import { IpIntelProvider } from './ip-intel-provider';

export const BLOCKLIST_PROVIDER = 'blocklist';
/** How often each list file's stat is polled. Polling also sees atomic replaces and symlink swaps (Kubernetes ConfigMaps). */
export const BLOCKLIST_POLL_INTERVAL_MS = 1000;
/** A file being rewritten fires several changes; reload once it has been quiet this long. */
export const BLOCKLIST_RELOAD_DEBOUNCE_MS = 250;
/** A listed address scores this, and a hit is decisive (ip-scoring.ts): one listing is enough. */
const LISTED_SCORE = 100;

/**
 * Plain-text IP/CIDR lists from `IP_BLOCKLISTS` (FireHOL, Spamhaus DROP, Tor exit list formats),
 * matched with a prefix trie in O(address length). Each file is watched and reloaded when it
 * changes; a file that cannot be read, or that no longer holds a single valid entry while holding
 * garbage (a failed download, an HTML error page), keeps its previous entries, so a bad reload
 * never empties the lists. A hit names every list that contains the address.
 */
@Injectable()
export class BlocklistProvider implements IpIntelProvider, OnModuleInit, OnModuleDestroy {
  readonly name = BLOCKLIST_PROVIDER;
  private readonly logger = new Logger(BlocklistProvider.name);
  private readonly paths: string[];
  /** The last good parse of each file, in configuration order. */
  private readonly loaded = new Map<string, NamedBlocklist>();
  private readonly debounces = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Map<string, (current: Stats, previous: Stats) => void>();
  private matcher = new BlocklistMatcher([]);
  /** Reloads run one at a time, in order. */
  private reloads: Promise<void> = Promise.resolve();
  private destroyed = false;

  constructor(config: ConfigService<AppConfig, true>) {
    this.paths = [...new Set(config.get('ipIntel.blocklists', { infer: true }))];
  }

  async onModuleInit(): Promise<void> {
    if (this.paths.length === 0) return;
    for (const path of this.paths) await this.load(path);
    this.rebuild();
    for (const path of this.paths) this.watch(path);
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    for (const [path, listener] of this.listeners) unwatchFile(path, listener);
    this.listeners.clear();
    for (const timer of this.debounces.values()) clearTimeout(timer);
    this.debounces.clear();
  }

  async lookup(ip: ParsedIp): Promise<ProviderAnswer> {
    const lists = this.matcher.match(ip);
    const listed = lists.length > 0;
    return {
      provider: BLOCKLIST_PROVIDER,
      score: listed ? LISTED_SCORE : null,
      hasData: listed,
      decisive: listed,
      kind: 'list',
      totalReports: 0,
      lastReportedAt: null,
      categories: [],
      lists,
      fetchedAt: new Date().toISOString(),
    };
  }

  private watch(path: string): void {
    const listener = (current: Stats, previous: Stats): void => {
      if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino)
        return;
      this.scheduleReload(path);
    };
    watchFile(path, { persistent: false, interval: BLOCKLIST_POLL_INTERVAL_MS }, listener);
    this.listeners.set(path, listener);
  }

  private scheduleReload(path: string): void {
    clearTimeout(this.debounces.get(path));
    const timer = setTimeout(() => {
      this.debounces.delete(path);
      this.reloads = this.reloads
        .then(() => this.reload(path))
        .catch((error: unknown) => this.logger.error({ msg: 'blocklist reload failed', path, err: error }));
    }, BLOCKLIST_RELOAD_DEBOUNCE_MS);
    timer.unref();
    this.debounces.set(path, timer);
  }

  private async reload(path: string): Promise<void> {
    if (this.destroyed) return;
    if (await this.load(path)) this.rebuild();
  }

  /** Reads and parses one file; on failure keeps its previous entries. Answers whether anything changed. */
  private async load(path: string): Promise<boolean> {
    const name = blocklistNameFromFile(path);
    const started = performance.now();
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      this.logger.warn({ msg: 'blocklist unreadable; keeping its previous entries', list: name, path, code });
      return false;
    }
    const parsed = parseBlocklist(text);
    if (parsed.entries.length === 0 && parsed.invalidLines > 0) {
      this.logger.warn({
        msg: 'blocklist has no valid entry; keeping its previous entries',
        list: name,
        path,
        invalidLines: parsed.invalidLines,
      });
      return false;
    }
    this.loaded.set(path, { name, entries: parsed.entries });
    this.logger.log({
      msg: 'blocklist loaded',
      list: name,
      entries: parsed.entries.length,
      invalidLines: parsed.invalidLines,
      ms: Math.round(performance.now() - started),
    });
    return true;
  }

  private rebuild(): void {
    const lists = this.paths.flatMap((path) => this.loaded.get(path) ?? []);
    this.matcher = new BlocklistMatcher(lists);
    const stats = this.matcher.stats;
    this.logger.log({
      msg: 'blocklists active',
      lists: this.matcher.listNames,
      ipv4Networks: stats.ipv4Networks,
      ipv6Networks: stats.ipv6Networks,
      trieBytes: stats.trieBytes,
    });
  }
}
