import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type Redis from 'ioredis';
import { closeIoredis } from '../redis/redis-connection';
import { RedisService } from '../redis/redis.service';
import { WATCH_POLL_WITH_REDIS_MS, WATCH_POLL_WITHOUT_REDIS_MS } from './jobs.constants';

interface Waiter<T> {
  resolve(value: T | undefined): void;
}

/** Everyone waiting for one job, and the one read of its row they share. */
interface Watch<T> {
  waiters: Set<Waiter<T>>;
  read: () => Promise<T | undefined>;
  reading: boolean;
  again: boolean;
  timer: NodeJS.Timeout;
  channel: string;
}

/**
 * Tells waiting requests that a job finished (docs/api.md, Image analysis: sync uploads, `GET` with
 * `Prefer: wait`). Workers `publish` each terminal transition — in process, and on a Redis channel
 * per job when Redis is configured. Every request waiting for the same job shares one watch: one
 * Redis subscription (on one connection for the process) and one read of the row per
 * notification, plus a slow re-read that covers a lost message; without Redis, a short poll of
 * the row (the worker may be another process on the same database).
 */
@Injectable()
export class JobEvents implements OnModuleDestroy {
  private readonly logger = new Logger(JobEvents.name);
  private readonly watches = new Map<string, Watch<unknown>>();
  private subscriber: Redis | undefined;

  constructor(private readonly redis: RedisService) {}

  /** Announces that the job `id` of `queue` changed to a terminal state. Never throws. */
  async publish(queue: string, id: string): Promise<void> {
    this.check(this.keyOf(queue, id));
    const client = this.redis.client;
    if (!client || !this.redis.available) return;
    await client.publish(this.channelOf(queue, id), '1').catch((error: unknown) => {
      this.logger.warn({ msg: 'job event not published', queue, jobId: id, err: error });
    });
  }

  /**
   * Resolves with `read()`'s first defined answer (the job, once terminal), or undefined when
   * `timeoutMs` passes or `signal` aborts first. `read` is called when the job is announced, and
   * now and then; concurrent waiters of one job share its calls.
   */
  wait<T>(
    queue: string,
    id: string,
    read: () => Promise<T | undefined>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(undefined);
    const key = this.keyOf(queue, id);
    const watch =
      (this.watches.get(key) as Watch<T> | undefined) ?? this.startWatch(key, this.channelOf(queue, id), read);
    return new Promise<T | undefined>((resolve) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        watch.waiters.delete(waiter);
        if (watch.waiters.size === 0) this.stopWatch(key, watch);
      };
      const waiter: Waiter<T> = {
        resolve: (value) => {
          leave();
          resolve(value);
        },
      };
      const onAbort = () => waiter.resolve(undefined);
      const timer = setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      watch.waiters.add(waiter);
    });
  }

  /** Jobs being watched by this process (for tests and diagnostics). */
  get watching(): number {
    return this.watches.size;
  }

  async onModuleDestroy(): Promise<void> {
    for (const [key, watch] of this.watches) {
      for (const waiter of watch.waiters) waiter.resolve(undefined);
      this.stopWatch(key, watch);
    }
    if (this.subscriber) await closeIoredis(this.subscriber);
  }

  private startWatch<T>(key: string, channel: string, read: () => Promise<T | undefined>): Watch<T> {
    const interval = this.redis.enabled ? WATCH_POLL_WITH_REDIS_MS : WATCH_POLL_WITHOUT_REDIS_MS;
    const watch: Watch<T> = {
      waiters: new Set(),
      read,
      reading: false,
      again: false,
      timer: setInterval(() => this.check(key), interval),
      channel,
    };
    this.watches.set(key, watch as Watch<unknown>);
    const subscriber = this.subscription();
    if (subscriber) {
      // Read once the subscription stands, so a transition just before it is not missed.
      subscriber.subscribe(channel).then(
        () => this.check(key),
        () => undefined,
      );
    }
    this.check(key);
    return watch;
  }

  private stopWatch(key: string, watch: Watch<unknown>): void {
    if (this.watches.get(key) !== watch) return;
    this.watches.delete(key);
    clearInterval(watch.timer);
    this.subscriber?.unsubscribe(watch.channel).catch(() => undefined);
  }

  /** Reads the job's row for its waiters; a notification during a read causes one more read. */
  private check(key: string): void {
    const watch = this.watches.get(key);
    if (!watch) return;
    if (watch.reading) {
      watch.again = true;
      return;
    }
    watch.reading = true;
    watch
      .read()
      .then(
        (value) => {
          if (value === undefined) return;
          for (const waiter of [...watch.waiters]) waiter.resolve(value);
        },
        (error: unknown) => this.logger.warn({ msg: 'reading a watched job failed', key, err: error }),
      )
      .finally(() => {
        watch.reading = false;
        if (watch.again && this.watches.get(key) === watch) {
          watch.again = false;
          this.check(key);
        }
      });
  }

  /** The process's one subscriber connection, opened at the first watch; undefined without Redis. */
  private subscription(): Redis | undefined {
    if (!this.redis.enabled) return undefined;
    if (!this.subscriber) {
      this.subscriber = this.redis.createClient('argus-job-events');
      this.subscriber.on('message', (channel: string) => {
        const key = this.keyOfChannel(channel);
        if (key) this.check(key);
      });
      // After a reconnect the subscriptions are gone: subscribe again and re-read every watched job.
      this.subscriber.on('ready', () => {
        for (const [key, watch] of this.watches) {
          this.subscriber?.subscribe(watch.channel).then(
            () => this.check(key),
            () => undefined,
          );
        }
      });
    }
    return this.subscriber;
  }

  private keyOf(queue: string, id: string): string {
    return `${queue}:${id}`;
  }

  private channelOf(queue: string, id: string): string {
    return this.redis.key('jobs', 'done', queue, id);
  }

  private keyOfChannel(channel: string): string | undefined {
    const prefix = this.redis.key('jobs', 'done', '');
    return channel.startsWith(prefix) ? channel.slice(prefix.length) : undefined;
  }
}
