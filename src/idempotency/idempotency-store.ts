/** How long a key answers with its first response (docs/api.md, Idempotency keys). */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long an in-flight marker holds its key when nothing settles it (the process died mid-request):
 * REQUEST_TIMEOUT_S' default, the longest a request may be served. After that the key is free
 * again, so a crash never leaves it stuck.
 */
export const IN_FLIGHT_TTL_MS = 120 * 1000;

/** A response as it was sent: what a retry with the same key is given again. */
export interface StoredResponse {
  status: number;
  /** Only the headers worth replaying (see REPLAYED_HEADERS), lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/** The in-flight marker this request holds on its key; `token` tells it from a later holder's. */
export interface Reservation {
  userId: string;
  key: string;
  fingerprint: string;
  token: string;
  createdAt: Date;
}

/** What a store answers when a request asks for its key. */
export type Claim =
  /** The key was free (or expired): this request holds it now and must complete or release it. */
  | { kind: 'reserved'; reservation: Reservation }
  /** The same request was answered already: give `response` again. */
  | { kind: 'replay'; response: StoredResponse }
  /** The same request is being served right now by another request. */
  | { kind: 'in-flight' }
  /** The key belongs to a different request (method, path or body). */
  | { kind: 'mismatch' };

/**
 * Where idempotency keys live, per user: Redis when REDIS_URL is set, the database otherwise. Both
 * are shared by every replica, and both expire an in-flight marker after IN_FLIGHT_TTL_MS and a
 * stored response after IDEMPOTENCY_KEY_TTL_MS.
 */
export interface IdempotencyStore {
  readonly kind: 'redis' | 'database';

  /** Reserves the key for this request, atomically, or says why not. */
  claim(userId: string, key: string, fingerprint: string): Promise<Claim>;

  /** Stores the first response in place of the marker. False when the marker was no longer this request's. */
  complete(reservation: Reservation, response: StoredResponse): Promise<boolean>;

  /** Frees the key (nothing worth replaying happened), if the marker is still this request's. */
  release(reservation: Reservation): Promise<void>;
}

export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');
