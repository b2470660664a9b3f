import { Inject, Injectable, Logger } from '@nestjs/common';
import { keptResponseUnreadable } from './idempotency.errors';
import { Claim, IDEMPOTENCY_STORE, IdempotencyStore, Reservation, StoredResponse } from './idempotency-store';
import { isReplayable } from './replay-policy';
import { ResponseSeal } from './response-seal';

/**
 * The idempotency-key bookkeeping of one request, over the configured store: claim the key before
 * the operation runs, then keep its response (its body sealed, see ResponseSeal) or free the key
 * once the response is known.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger(IdempotencyService.name);

  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    private readonly seal: ResponseSeal,
  ) {}

  async claim(userId: string, key: string, fingerprint: string): Promise<Claim> {
    const claim = await this.store.claim(userId, key, fingerprint);
    if (claim.kind === 'replay') {
      const body = this.seal.tryOpen(claim.response.body, boundTo(userId, key));
      if (body === undefined) {
        this.logger.warn({ msg: 'kept idempotent response unreadable (JWT_SECRET changed?)', key });
        throw keptResponseUnreadable();
      }
      this.logger.log({ msg: 'idempotency key replayed', key, status: claim.response.status });
      return { kind: 'replay', response: { ...claim.response, body } };
    }
    if (claim.kind !== 'reserved') {
      this.logger.log({ msg: `idempotency key ${claim.kind === 'mismatch' ? 'reused' : 'in flight'}`, key });
    }
    return claim;
  }

  /**
   * Keeps the response for replays when the replay policy says so, frees the key otherwise (the
   * request never ran, or a retry may go otherwise). Never rejects: the response goes out whatever
   * happens here; a marker that could not be written off expires after IN_FLIGHT_TTL_MS.
   */
  async settle(
    reservation: Reservation,
    response: StoredResponse | undefined,
    refusedBeforeHandler: boolean,
  ): Promise<void> {
    const { key } = reservation;
    try {
      if (response && isReplayable(response.status, refusedBeforeHandler)) {
        const sealed = { ...response, body: this.seal.seal(response.body, boundTo(reservation.userId, key)) };
        if (await this.store.complete(reservation, sealed)) return;
        // The marker expired (the request ran past IN_FLIGHT_TTL_MS) and another request took the key.
        this.logger.warn({ msg: 'idempotency key lost before its response was stored', key, status: response.status });
        return;
      }
      await this.store.release(reservation);
      this.logger.debug({ msg: 'idempotency key released', key, status: response?.status });
    } catch (error) {
      this.logger.warn({ msg: 'idempotency key could not be settled', key, err: error });
      await this.store.release(reservation).catch(() => undefined);
    }
  }
}

function boundTo(userId: string, key: string): string {
  return `${userId}\n${key}`;
}
