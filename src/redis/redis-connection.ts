import { Logger } from '@nestjs/common';
import KeyvRedis, { createClient as createNodeRedisClient } from '@keyv/redis';
import Redis, { RedisOptions } from 'ioredis';

/** A dead or unreachable server must fail a connection attempt quickly, not after the OS default. */
const CONNECT_TIMEOUT_MS = 2_000;
const RECONNECT_BASE_MS = 50;
const RECONNECT_CAP_MS = 1_000;
const RECONNECT_JITTER_MS = 100;
const CLOSE_TIMEOUT_MS = 1_000;

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential, capped, jittered, and never
 * "give up" — when Redis comes back, the shared behaviour (cache, locks, rate limits) resumes.
 */
export function reconnectDelayMs(attempt: number): number {
  const exponential = RECONNECT_BASE_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 10);
  return Math.min(exponential, RECONNECT_CAP_MS) + Math.floor(Math.random() * RECONNECT_JITTER_MS);
}

/**
 * ioredis options for clients that sit in a request path. Without `enableOfflineQueue: false` and a
 * small `maxRetriesPerRequest`, commands queue forever while Redis is down instead of failing fast
 * to the in-process fallback. No `keyPrefix`: callers prefix explicitly with `RedisService.key()`.
 */
export function safeRedisOptions(connectionName: string): RedisOptions {
  return {
    connectionName,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // Commands issued in the same tick (many concurrent requests' rate-limit counters) leave in one
    // socket write instead of one write each.
    enableAutoPipelining: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelayMs,
  };
}

/**
 * A `@keyv/redis` store over its own node-redis client (the adapter speaks only node-redis), set up
 * to fail fast like the ioredis clients: with the offline queue disabled, a command issued while the
 * connection is down rejects at once with `ClientOfflineError`. `throwOnErrors` makes failures
 * visible to the caller instead of being reported as a miss. The caller owns the store and must
 * `disconnect()` it.
 */
export function createKeyvRedisStore(url: string, namespace: string): KeyvRedis<unknown> {
  const client = createNodeRedisClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelayMs },
  });
  const store = new KeyvRedis<unknown>(client, {
    namespace,
    keyPrefixSeparator: ':',
    throwOnErrors: true,
    throwOnConnectError: true,
  });
  // Connect now rather than lazily on the first command; node-redis keeps retrying in the
  // background, and commands fail fast until it is ready.
  client.connect().catch(() => undefined);
  return store;
}

/** Closes a node-redis backed store gracefully, or forcibly when the server does not answer. */
export async function closeKeyvRedisStore(store: KeyvRedis<unknown>): Promise<void> {
  try {
    await withTimeout(store.disconnect(false), CLOSE_TIMEOUT_MS);
  } catch {
    await store.disconnect(true).catch(() => undefined);
  }
}

/** QUIT when the server answers in time, otherwise drop the socket. Never throws. */
export async function closeIoredis(client: Redis): Promise<void> {
  try {
    await withTimeout(client.quit(), CLOSE_TIMEOUT_MS);
  } catch {
    client.disconnect();
  }
}

/** Rejects when `promise` has not settled within `ms`; the timer never outlives the race. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

type ConnectionState = 'connecting' | 'up' | 'down';

/**
 * Logs an ioredis client's connection transitions once each (lost at warn, restored at info), not
 * once per failed reconnect attempt. Loss is read from `reconnecting`, which ioredis emits only for
 * an unintended close, so a deliberate `quit()` at shutdown is not reported as an outage. The
 * `error` listener also keeps ioredis from printing "Unhandled error event".
 */
export function monitorConnection(client: Redis, logger: Logger, connection: string): void {
  let state: ConnectionState = 'connecting';
  let lastError: string | undefined;

  client.on('error', (error: Error) => {
    lastError = error.message;
  });
  client.on('reconnecting', () => {
    if (state === 'down') return;
    const msg = state === 'up' ? 'redis connection lost' : 'redis unreachable';
    logger.warn({ msg, connection, error: lastError });
    state = 'down';
  });
  client.on('ready', () => {
    const msg = state === 'down' ? 'redis connection restored' : 'redis connected';
    if (state !== 'up') logger.log({ msg, connection });
    state = 'up';
  });
}
