import { Injectable, Logger } from '@nestjs/common';
import { WebhookEvents } from '../webhooks/webhook-events.service';
import type { IpVerdict } from './ip-scoring';
import { IpLookupsRepository } from './repositories/ip-lookups.repository';

/** Who gets `ip.verdict_changed`: users who looked the address up within this window. */
export const WATCH_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;
/** A user's repeated lookups of one address are recorded at most this often (per replica). */
export const LOOKUP_RECORD_INTERVAL_MS = 60 * 60 * 1000;
/** Most (user, address) pairs remembered in process to skip repeated writes. */
const RECENT_LIMIT = 50_000;

export interface VerdictChange {
  ip: string;
  previousVerdict: IpVerdict;
  verdict: IpVerdict;
  score: number | null;
  checkedAt: Date;
}

/**
 * `ip.verdict_changed` webhooks (docs/api.md, "Webhooks"): every lookup records who asked (off
 * the request path, at most once an hour per user and address on each replica), and a fresh
 * lookup whose verdict differs from the address's previous snapshot queues the event for every
 * user who looked it up in the last 30 days. Neither step ever fails or slows a lookup: errors
 * are logged.
 */
@Injectable()
export class IpVerdictNotifier {
  private readonly logger = new Logger(IpVerdictNotifier.name);
  /** `${userId} ${ip}` → when it was last written, oldest first (a Map keeps insertion order). */
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly lookups: IpLookupsRepository,
    private readonly webhooks: WebhookEvents,
  ) {}

  /** Notes that the user looked the address up (returns at once; the write happens behind). */
  recordLookup(userId: string, ip: string): void {
    const key = `${userId} ${ip}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < LOOKUP_RECORD_INTERVAL_MS) return;
    this.recent.delete(key);
    this.recent.set(key, now);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value as string);
    this.lookups.touch(userId, ip, new Date(now)).catch((error: unknown) => {
      this.recent.delete(key);
      this.logger.warn({ msg: 'ip lookup not recorded for verdict webhooks', err: error });
    });
  }

  /** Queues the event for the address's recent lookers (and `initiator`, who is looking now). */
  async verdictChanged(change: VerdictChange, initiator: string | undefined): Promise<void> {
    try {
      const since = new Date(change.checkedAt.getTime() - WATCH_WINDOW_MS);
      const users = new Set(await this.lookups.usersSince(change.ip, since));
      if (initiator !== undefined) users.add(initiator);
      const data = {
        ip: change.ip,
        previousVerdict: change.previousVerdict,
        verdict: change.verdict,
        score: change.score,
        checkedAt: change.checkedAt.toISOString(),
      };
      const dedupeKey = `ip.verdict_changed:${change.ip}:${data.checkedAt}`;
      for (const userId of users) await this.webhooks.emit(userId, 'ip.verdict_changed', data, dedupeKey);
    } catch (error) {
      this.logger.warn({ msg: 'ip.verdict_changed not queued', ip: change.ip, err: error });
    }
  }
}
