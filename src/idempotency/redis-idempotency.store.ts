import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { storeUnavailable } from './idempotency.errors';
import {
  Claim,
  IDEMPOTENCY_KEY_TTL_MS,
  IdempotencyStore,
  IN_FLIGHT_TTL_MS,
  Reservation,
  StoredResponse,
} from './idempotency-store';

/** The key's value, or nil after writing ARGV[1] with a PX of ARGV[2]: SET NX that also says what was there. */
const CLAIM = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;

/** Replaces the value with ARGV[2] (PX ARGV[3]) only while it is still exactly ARGV[1], this request's marker. */
const COMPLETE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

/** Deletes the key only while it is still exactly ARGV[1], this request's marker. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type KeyValue =
  | { state: 'in-flight'; fingerprint: string; token: string }
  | { state: 'completed'; fingerprint: string; response: StoredResponse };

export interface RedisIdempotencyStoreOptions {
  inFlightTtlMs?: number;
  keyTtlMs?: number;
}

/**
 * Idempotency keys in Redis, under `<REDIS_KEY_PREFIX>idempotency:<user id>:<key>`, shared by every
 * replica. The in-flight marker is written with NX semantics and a PX of IN_FLIGHT_TTL_MS, in one
 * script that also returns what was there, so claiming is one round trip. Completing and releasing
 * compare the value with this request's marker first (a marker that expired and was taken over by
 * another request is left alone). Redis being unreachable fails the request with a 503 rather than
 * serving it without its key: a client sends a key exactly when running twice would hurt.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly kind = 'redis';
  private readonly inFlightTtlMs: number;
  private readonly keyTtlMs: number;

  constructor(
    private readonly client: Redis,
    private readonly keyFor: (userId: string, key: string) => string,
    options: RedisIdempotencyStoreOptions = {},
  ) {
    this.inFlightTtlMs = options.inFlightTtlMs ?? IN_FLIGHT_TTL_MS;
    this.keyTtlMs = options.keyTtlMs ?? IDEMPOTENCY_KEY_TTL_MS;
  }

  async claim(userId: string, key: string, fingerprint: string): Promise<Claim> {
    const reservation: Reservation = { userId, key, fingerprint, token: randomUUID(), createdAt: new Date() };
    const current = (await this.eval(CLAIM, reservation, marker(reservation), this.inFlightTtlMs)) as string | null;
    if (current === null) return { kind: 'reserved', reservation };
    const value = JSON.parse(current) as KeyValue;
    if (value.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return value.state === 'in-flight' ? { kind: 'in-flight' } : { kind: 'replay', response: value.response };
  }

  async complete(reservation: Reservation, response: StoredResponse): Promise<boolean> {
    const stored: KeyValue = { state: 'completed', fingerprint: reservation.fingerprint, response };
    const ttlMs = Math.max(1, reservation.createdAt.getTime() + this.keyTtlMs - Date.now());
    return (await this.eval(COMPLETE, reservation, marker(reservation), JSON.stringify(stored), ttlMs)) === 1;
  }

  async release(reservation: Reservation): Promise<void> {
    await this.eval(RELEASE, reservation, marker(reservation));
  }

  private async eval(script: string, reservation: Reservation, ...args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.eval(script, 1, this.keyFor(reservation.userId, reservation.key), ...args);
    } catch (error) {
      throw storeUnavailable(error);
    }
  }
}

/** This request's in-flight value: the exact string the compare-and-set scripts look for. */
function marker({ fingerprint, token }: Reservation): string {
  const value: KeyValue = { state: 'in-flight', fingerprint, token };
  return JSON.stringify(value);
}
