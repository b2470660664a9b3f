import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config.types';
import { RedisService } from '../redis/redis.service';
import { VerifiedAccessToken } from './auth.types';
import { RevokedAccessToken } from './entities/revoked-access-token.entity';
import { User } from './entities/user.entity';

/** What a replica must know about a user to refuse their tokens. */
interface UserFacts {
  /** Tokens issued before this epoch ms are refused (logout-all, role change, disabling). */
  validAfterMs: number | null;
  disabled: boolean;
  /** When this replica learnt it (a resync does not overwrite what a newer message said). */
  learntAtMs: number;
}

type RevocationMessage =
  | { kind: 'token'; tokenId: string; expiresAtMs: number }
  | { kind: 'user'; userId: string; validAfterMs: number | null; disabled: boolean };

/**
 * A user's facts stay in memory this long after their `tokens_valid_after`: longer than any access
 * token lives (JWT_ACCESS_TTL is at most a day), so every token issued before it has expired.
 */
const USER_FACTS_WINDOW_MS = 86_400_000 + 60_000;

/** How often the tables are read again: a safety net behind pub/sub, or the only feed without Redis. */
const RESYNC_WITH_REDIS_MS = 30_000;
const RESYNC_POSTGRES_WITHOUT_REDIS_MS = 1_000;
const RESYNC_EMBEDDED_MS = 60_000;

/**
 * Which access tokens to refuse although their signature and claims are fine: tokens signed out
 * by `logout` (a deny-list of token ids, kept until each expires), and every token of a user
 * issued before their `tokens_valid_after` or while they are disabled.
 *
 * The tables are the truth; every replica keeps them in memory, so checking a request — the
 * verified-token memo's hits included — is two map lookups. A change is written to the table,
 * applied here, and published on a Redis channel that every replica subscribes to (docs/api.md:
 * within a second on every replica); a replica reads the tables again whenever its subscription
 * (re)connects and every 30 s, so a missed message costs at most that. Without Redis the tables are
 * read every second on PostgreSQL (replicas share only the database) and the process's own memory
 * is enough on the embedded database.
 */
@Injectable()
export class AccessRevocations implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AccessRevocations.name);
  private readonly tokens = new Map<string, number>();
  private readonly users = new Map<string, UserFacts>();
  private readonly channel: string;
  private readonly resyncEveryMs: number;
  private subscriber?: Redis;
  private timer?: NodeJS.Timeout;
  private resyncing?: Promise<void>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly redis: RedisService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.channel = redis.key('auth', 'revocations');
    const postgres = config.get('database.url', { infer: true }) !== undefined;
    this.resyncEveryMs = redis.enabled
      ? RESYNC_WITH_REDIS_MS
      : postgres
        ? RESYNC_POSTGRES_WITHOUT_REDIS_MS
        : RESYNC_EMBEDDED_MS;
  }

  async onModuleInit(): Promise<void> {
    await this.resync();
    if (this.redis.enabled) this.subscribe();
    this.timer = setInterval(() => void this.resync(), this.resyncEveryMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  /** False when the token was signed out, or its user signed out everywhere since, or is disabled. */
  allows(token: VerifiedAccessToken): boolean {
    const facts = this.users.get(token.user.id);
    if (facts !== undefined) {
      if (facts.disabled) return false;
      if (facts.validAfterMs !== null && token.issuedAtMs < facts.validAfterMs) return false;
    }
    return !this.tokens.has(token.tokenId);
  }

  /** Signs one access token out until it expires, on every replica. */
  async revokeToken(token: VerifiedAccessToken): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(RevokedAccessToken)
      .values({
        tokenId: token.tokenId,
        userId: token.user.id,
        expiresAt: new Date(token.expiresAtMs),
        revokedAt: new Date(),
      })
      .orIgnore()
      .execute();
    await this.announce({ kind: 'token', tokenId: token.tokenId, expiresAtMs: token.expiresAtMs });
  }

  /** Tells every replica what the user's row now says (after logout-all, disabling, a role change). */
  async userChanged(user: Pick<User, 'id' | 'tokensValidAfter' | 'disabledAt'>): Promise<void> {
    await this.announce({
      kind: 'user',
      userId: user.id,
      validAfterMs: user.tokensValidAfter?.getTime() ?? null,
      disabled: user.disabledAt !== null,
    });
  }

  private async announce(message: RevocationMessage): Promise<void> {
    this.apply(message);
    const client = this.redis.client;
    if (!client) return;
    try {
      await client.publish(this.channel, JSON.stringify(message));
    } catch (error) {
      // Written to the table already: the other replicas read it at their next resync.
      this.logger.warn({ msg: 'revocation not published; replicas pick it up at their next resync', err: error });
    }
  }

  private apply(message: RevocationMessage, nowMs = Date.now()): void {
    if (message.kind === 'token') {
      if (message.expiresAtMs > nowMs) this.tokens.set(message.tokenId, message.expiresAtMs);
      return;
    }
    const { userId, validAfterMs, disabled } = message;
    this.users.set(userId, { validAfterMs, disabled, learntAtMs: nowMs });
  }

  private subscribe(): void {
    const subscriber = this.redis.createClient('argus-auth-revocations');
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return;
      const message = parseMessage(text);
      if (message) this.apply(message);
      else this.logger.warn({ msg: 'unreadable revocation message ignored' });
    });
    // On every (re)connection: subscribe, then read the tables for what was missed meanwhile.
    subscriber.on('ready', () => {
      subscriber
        .subscribe(this.channel)
        .then(() => this.resync())
        .catch((error: unknown) => this.logger.warn({ msg: 'revocation channel subscription failed', err: error }));
    });
  }

  /** Reads both tables and merges them in; one at a time; never throws. */
  private resync(): Promise<void> {
    this.resyncing ??= this.load()
      .catch((error: unknown) => this.logger.warn({ msg: 'revocations could not be read', err: error }))
      .finally(() => {
        this.resyncing = undefined;
      });
    return this.resyncing;
  }

  private async load(): Promise<void> {
    const startedAtMs = Date.now();
    const now = new Date(startedAtMs);
    const tokens = await this.dataSource
      .getRepository(RevokedAccessToken)
      .createQueryBuilder('token')
      .select(['token.tokenId', 'token.expiresAt'])
      .where('token.expires_at > :now', { now })
      .getMany();
    const users = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('user')
      .select(['user.id', 'user.tokensValidAfter', 'user.disabledAt'])
      .where('user.disabled_at IS NOT NULL')
      .orWhere('user.tokens_valid_after > :since', { since: new Date(startedAtMs - USER_FACTS_WINDOW_MS) })
      .getMany();

    for (const [tokenId, expiresAtMs] of this.tokens) if (expiresAtMs <= startedAtMs) this.tokens.delete(tokenId);
    for (const token of tokens) this.tokens.set(token.tokenId, token.expiresAt.getTime());

    const fresh = new Map(users.map((user) => [user.id, user]));
    for (const [userId, facts] of this.users) {
      if (facts.learntAtMs < startedAtMs && !fresh.has(userId)) this.users.delete(userId);
    }
    for (const user of users) {
      const known = this.users.get(user.id);
      if (known && known.learntAtMs >= startedAtMs) continue;
      this.users.set(user.id, {
        validAfterMs: user.tokensValidAfter?.getTime() ?? null,
        disabled: user.disabledAt !== null,
        learntAtMs: startedAtMs,
      });
    }
  }
}

function parseMessage(text: string): RevocationMessage | undefined {
  try {
    const message = JSON.parse(text) as Partial<Record<string, unknown>>;
    if (message.kind === 'token' && typeof message.tokenId === 'string' && typeof message.expiresAtMs === 'number') {
      return { kind: 'token', tokenId: message.tokenId, expiresAtMs: message.expiresAtMs };
    }
    if (
      message.kind === 'user' &&
      typeof message.userId === 'string' &&
      (message.validAfterMs === null || typeof message.validAfterMs === 'number') &&
      typeof message.disabled === 'boolean'
    ) {
      return { kind: 'user', userId: message.userId, validAfterMs: message.validAfterMs, disabled: message.disabled };
    }
  } catch {
    // fall through
  }
  return undefined;
}
