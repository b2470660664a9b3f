import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { RedisGuard } from './redis-guard';

/** Deletes the lock only while it still holds our token: never release a lock someone else took over. */
const RELEASE_SCRIPT = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

/** Extends the lock only while it still holds our token. */
const RENEW_SCRIPT = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;

export interface LockLease {
  release(): Promise<void>;
}

export type LockAttempt =
  | { status: 'acquired'; lease: LockLease }
  /** Another owner (this process or another replica) holds the lock. */
  | { status: 'held' }
  /** Redis is not configured or not answering: there is no cross-process lock to take. */
  | { status: 'unavailable' };

/**
 * A Redis lock per key (`SET key token PX ttl NX`). The lease is renewed while its holder works,
 * so a slow holder keeps it while a crashed one loses it within one TTL.
 */
export class DistributedLock {
  private readonly logger = new Logger(DistributedLock.name);

  constructor(
    private readonly client: Redis | undefined,
    private readonly guard: RedisGuard,
    private readonly ttlMs: number,
  ) {}

  async tryAcquire(lockKey: string): Promise<LockAttempt> {
    const client = this.client;
    if (!client) return { status: 'unavailable' };
    const token = randomUUID();
    const result = await this.guard.run(() => client.set(lockKey, token, 'PX', this.ttlMs, 'NX'));
    if (!result.ok) return { status: 'unavailable' };
    if (result.value !== 'OK') return { status: 'held' };
    return { status: 'acquired', lease: this.lease(client, lockKey, token) };
  }

  /** Whether someone holds the lock; false when Redis cannot tell, so the caller falls back. */
  async isHeld(lockKey: string): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    const result = await this.guard.run(() => client.exists(lockKey));
    return result.ok && result.value === 1;
  }

  private lease(client: Redis, lockKey: string, token: string): LockLease {
    const renewal = setInterval(() => {
      void this.renew(client, lockKey, token).then((stillOurs) => {
        if (!stillOurs) clearInterval(renewal);
      });
    }, Math.floor(this.ttlMs / 3));
    renewal.unref();
    return {
      release: async () => {
        clearInterval(renewal);
        await this.guard.run(() => client.eval(RELEASE_SCRIPT, 1, lockKey, token));
      },
    };
  }

  /** Extends the lease; false once it has expired and someone else took the lock over. */
  private async renew(client: Redis, lockKey: string, token: string): Promise<boolean> {
    const result = await this.guard.run(() => client.eval(RENEW_SCRIPT, 1, lockKey, token, this.ttlMs));
    if (!result.ok || result.value !== 0) return true;
    this.logger.warn({ msg: 'single-flight lock lost while its holder was still working', lockKey });
    return false;
  }
}
