import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ipaddr from 'ipaddr.js';
import { AppConfig, IpFeedSetting } from '../../config/config.types';
import { MetricsService } from '../../metrics/metrics.service';
import { OutboundHttpService } from '../../outbound-http/outbound-http.service';
import { BlocklistEntry } from '../blocklist/blocklist-parser';
import { PrefixTrie } from '../blocklist/prefix-trie';
import type { IpNetwork, ParsedIp } from '../ip-address';
import type { ProviderAnswer } from '../ip-reputation.types';
import { CircuitOpenError, UpstreamError, UpstreamTimeoutError } from '../../outbound-http/outbound-http.errors';
import { fetchFeed, FeedTooLargeError, FeedValidators } from './feed-fetcher';
import { parseFeed, refusalReason } from './feed-parser';

/** A body larger than this is refused (the largest public lists, FireHOL level 4, are a few MB). */
export const FEED_MAX_BYTES = 32 * 1024 * 1024;
export const FEED_TIMEOUT_MS = 30_000;
export const FEED_RETRIES = 2;
/** The feed whose hits set `isTor` (docs/api.md, "Feeds"). */
export const TOR_FEED = 'tor';
/** A listed address scores this, and a hit is decisive (ip-scoring.ts); the tor feed scores the suspicious threshold. */
const LISTED_SCORE = 100;

/** One feed's networks as last swapped in: immutable, replaced whole. */
interface FeedData {
  entries: readonly BlocklistEntry[];
  ipv4: PrefixTrie<number>;
  ipv6: PrefixTrie<number>;
}

interface FeedState extends IpFeedSetting {
  data: FeedData;
  validators: FeedValidators;
  /** Last time the feed was confirmed current (200 or 304), epoch ms. */
  checkedAt?: number;
  lastError: string | null;
}

/** What is written beside the last good copy under DATA_DIR/feeds. */
interface FeedMeta {
  url: string;
  validators: FeedValidators;
  checkedAt: number;
}

export interface FeedView {
  name: string;
  /** The URL with credentials and query values masked. */
  url: string;
  entries: number;
  fetchedAt: string | null;
  ageSeconds: number | null;
  lastError: string | null;
}

const EMPTY: FeedData = { entries: [], ipv4: new PrefixTrie<number>(4, 2), ipv6: new PrefixTrie<number>(16, 2) };

/**
 * IP_FEEDS (docs/operations.md, "IP feeds"): named lists fetched at start and every
 * IP_FEEDS_REFRESH, conditionally (ETag / Last-Modified), capped in size, parsed and checked, then
 * swapped in whole. The last good copy of each feed is kept under DATA_DIR/feeds and used at boot
 * and whenever a fetch fails. Every replica fetches for itself (conditional requests keep that
 * cheap); a refresh never overlaps the previous one on the same replica.
 */
@Injectable()
export class IpFeedsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IpFeedsService.name);
  private readonly feeds: FeedState[];
  private readonly dir: string;
  private readonly refreshMs: number;
  private readonly torScore: number;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private destroyed = false;

  constructor(
    private readonly http: OutboundHttpService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const settings = config.get('ipIntel', { infer: true });
    this.feeds = settings.feeds.map((feed) => ({ ...feed, data: EMPTY, validators: {}, lastError: null }));
    this.dir = join(config.get('app.dataDir', { infer: true }), 'feeds');
    this.refreshMs = settings.feedsRefreshMs;
    this.torScore = settings.suspiciousAt;
  }

  /** Loads the last good copies (the app then serves them at once), then fetches in the background. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.feeds.length === 0) return;
    for (const feed of this.feeds) await this.loadLastGood(feed);
    void this.refreshAll();
    this.timer = setInterval(() => void this.refreshAll(), this.refreshMs);
    this.timer.unref();
  }

  /**
   * Stops refreshing. A fetch in flight is not waited for (with its retries it could outlast the
   * shutdown grace); whatever it brings back is dropped.
   */
  onModuleDestroy(): void {
    this.destroyed = true;
    clearInterval(this.timer);
  }

  /** One refresh of every feed, in order; a call during a refresh waits for it instead. */
  refreshAll(): Promise<void> {
    this.refreshing ??= (async () => {
      for (const feed of this.feeds) if (!this.destroyed) await this.refresh(feed);
    })().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** One `feed:<name>` source per feed that lists the address (feeds that do not are not shown). */
  match(ip: ParsedIp): ProviderAnswer[] {
    const hits: ProviderAnswer[] = [];
    for (const feed of this.feeds) {
      const trie = ip.version === 4 ? feed.data.ipv4 : feed.data.ipv6;
      if (feed.data.entries.length === 0 || trie.match(ip.bytes) === undefined) continue;
      const score = feed.name === TOR_FEED ? this.torScore : LISTED_SCORE;
      hits.push({
        provider: `feed:${feed.name}`,
        score,
        hasData: true,
        decisive: true,
        kind: 'list',
        listed: true,
        totalReports: 0,
        lastReportedAt: null,
        categories: [],
        fetchedAt: new Date(feed.checkedAt ?? Date.now()).toISOString(),
      });
    }
    return hits;
  }

  /** From the `tor` feed: listed, loaded and not listed, or null without a loaded tor feed. */
  isTor(ip: ParsedIp): boolean | null {
    const tor = this.feeds.find((feed) => feed.name === TOR_FEED);
    if (tor === undefined || tor.data.entries.length === 0) return null;
    return (ip.version === 4 ? tor.data.ipv4 : tor.data.ipv6).match(ip.bytes) !== undefined;
  }

  /** The feed entries that overlap a network (hold it, or lie inside it), per feed, as CIDR text. */
  overlapping(network: IpNetwork): Array<{ feed: string; prefix: string }> {
    const found: Array<{ feed: string; prefix: string }> = [];
    for (const feed of this.feeds) {
      const trie = network.version === 4 ? feed.data.ipv4 : feed.data.ipv6;
      const holding = (trie.match(network.bytes) ?? []).map((index) => feed.data.entries[index]);
      const inside = feed.data.entries.filter(
        (entry) => entry.prefixLen > network.prefixLen && withinNetwork(entry.bytes, network),
      );
      for (const entry of [...holding.filter((entry) => entry.prefixLen <= network.prefixLen), ...inside]) {
        found.push({ feed: feed.name, prefix: `${ipaddr.fromByteArray(entry.bytes).toString()}/${entry.prefixLen}` });
      }
    }
    return found;
  }

  /** The admin view (`GET /v1/admin/ip-feeds`). */
  list(): FeedView[] {
    const now = Date.now();
    return this.feeds.map((feed) => ({
      name: feed.name,
      url: maskUrl(feed.url),
      entries: feed.data.entries.length,
      fetchedAt: feed.checkedAt === undefined ? null : new Date(feed.checkedAt).toISOString(),
      ageSeconds: feed.checkedAt === undefined ? null : Math.max(0, Math.round((now - feed.checkedAt) / 1000)),
      lastError: feed.lastError,
    }));
  }

  private async refresh(feed: FeedState): Promise<void> {
    const provider = `feed:${feed.name}`;
    let result;
    try {
      result = await fetchFeed(this.http, provider, feed.url, feed.validators, {
        maxBytes: FEED_MAX_BYTES,
        timeoutMs: FEED_TIMEOUT_MS,
        retries: FEED_RETRIES,
      });
    } catch (error) {
      feed.lastError = describe(error);
      this.logger.warn({
        msg: 'ip feed fetch failed; keeping its last good copy',
        feed: feed.name,
        error: feed.lastError,
        entries: feed.data.entries.length,
      });
      return;
    }
    if (this.destroyed) return;
    const now = Date.now();
    if (result.status === 'not-modified') {
      feed.checkedAt = now;
      feed.lastError = null;
      this.logger.log({ msg: 'ip feed not modified', feed: feed.name, entries: feed.data.entries.length });
      this.metrics.setIpFeed(feed.name, feed.data.entries.length, now);
      await this.saveMeta(feed);
      return;
    }
    if (this.swapIn(feed, result.text, 'fetched')) {
      feed.validators = result.validators;
      feed.checkedAt = now;
      feed.lastError = null;
      this.metrics.setIpFeed(feed.name, feed.data.entries.length, now);
      await this.saveLastGood(feed, result.text);
    }
  }

  /** Parses, checks and swaps a body in; false (and the old data kept) when it is refused. */
  private swapIn(feed: FeedState, text: string, origin: 'fetched' | 'last good copy'): boolean {
    const parsed = parseFeed(text);
    const refusal = refusalReason(parsed);
    if (refusal !== undefined) {
      feed.lastError = `refused: ${refusal}`;
      this.logger.warn({
        msg: 'ip feed refused; keeping its last good copy',
        feed: feed.name,
        origin,
        reason: refusal,
        entries: parsed.entries.length,
        invalidLines: parsed.invalidLines,
      });
      return false;
    }
    const ipv4 = new PrefixTrie<number>(4);
    const ipv6 = new PrefixTrie<number>(16);
    parsed.entries.forEach((entry, index) =>
      (entry.bytes.length === 4 ? ipv4 : ipv6).insert(entry.bytes, entry.prefixLen, index),
    );
    ipv4.compact();
    ipv6.compact();
    feed.data = { entries: parsed.entries, ipv4, ipv6 };
    this.logger.log({
      msg: 'ip feed loaded',
      feed: feed.name,
      origin,
      format: parsed.format,
      entries: parsed.entries.length,
      invalidLines: parsed.invalidLines,
    });
    return true;
  }

  private async loadLastGood(feed: FeedState): Promise<void> {
    let meta: FeedMeta;
    let text: string;
    try {
      meta = JSON.parse(await readFile(this.metaPath(feed), 'utf8')) as FeedMeta;
      text = await readFile(this.copyPath(feed), 'utf8');
    } catch {
      this.metrics.setIpFeed(feed.name, 0, undefined);
      return; // No copy yet (first start) or an unreadable one: the first fetch decides.
    }
    if (meta.url !== feed.url || !this.swapIn(feed, text, 'last good copy')) {
      this.metrics.setIpFeed(feed.name, 0, undefined);
      return;
    }
    feed.validators = meta.validators ?? {};
    feed.checkedAt = meta.checkedAt;
    this.metrics.setIpFeed(feed.name, feed.data.entries.length, meta.checkedAt);
  }

  private async saveLastGood(feed: FeedState, text: string): Promise<void> {
    await this.writeAtomically(this.copyPath(feed), text);
    await this.saveMeta(feed);
  }

  private async saveMeta(feed: FeedState): Promise<void> {
    const meta: FeedMeta = { url: feed.url, validators: feed.validators, checkedAt: feed.checkedAt ?? Date.now() };
    await this.writeAtomically(this.metaPath(feed), JSON.stringify(meta));
  }

  /** Write beside, then rename: a crash mid-write never leaves a half copy behind. */
  private async writeAtomically(path: string, content: string): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, content);
      await rename(temporary, path);
    } catch (error) {
      this.logger.warn({ msg: 'ip feed copy not saved', path, code: (error as NodeJS.ErrnoException).code });
    }
  }

  private copyPath(feed: FeedState): string {
    return join(this.dir, `${feed.name}.txt`);
  }

  private metaPath(feed: FeedState): string {
    return join(this.dir, `${feed.name}.json`);
  }
}

/** `https://user:secret@host/list?key=abc` → `https://***@host/list?key=***`. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const credentials = parsed.username !== '' || parsed.password !== '';
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) parsed.searchParams.set(key, '***');
    const text = parsed.toString().replace(/%2A/g, '*');
    return credentials ? text.replace('//', '//***@') : text;
  } catch {
    return '***';
  }
}

/** A short, log- and admin-safe description of a failed fetch (no URL, no upstream body). */
function describe(error: unknown): string {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof FeedTooLargeError) return `too large (over ${FEED_MAX_BYTES} bytes)`;
  }
  if (error instanceof UpstreamTimeoutError) return 'timeout';
  if (error instanceof CircuitOpenError) return 'circuit open';
  if (error instanceof UpstreamError) {
    return error.upstreamStatus !== undefined && error.upstreamStatus > 0
      ? `HTTP ${error.upstreamStatus}`
      : 'unavailable';
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'unreadable';
}

function withinNetwork(bytes: readonly number[], network: IpNetwork): boolean {
  if (bytes.length !== network.bytes.length) return false;
  for (let bit = 0; bit < network.prefixLen; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((bytes[byte] & mask) !== (network.bytes[byte] & mask)) return false;
  }
  return true;
}
