import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ThrottlerStorage } from '@nestjs/throttler';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { AppConfig } from '../config/config.types';

/** Must match the `ip` throttler of RateLimitModule and the key of UserThrottlerGuard. */
const THROTTLER_NAME = 'ip';
const WINDOW_MS = 60_000;
const keyFor = (userId: string): string => `rl:${THROTTLER_NAME}:user:${userId}`;

/**
 * Counts the extra addresses of a bulk lookup against `IP_RATE_LIMIT_PER_MINUTE` (CONTRACT §4: a
 * bulk lookup counts each address). The per-user guard has already counted the request as one
 * address; this adds the others to the same shared counter, so single and bulk lookups draw from
 * one budget. A batch that does not fit is refused whole (429 + Retry-After), and what it counted
 * stays counted, as it would for the same number of single lookups.
 */
@Injectable()
export class IpLookupLimiter {
  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    private readonly config: ConfigService<AppConfig, true>,
  ) {}

  /** Counts a bulk lookup of `addresses` distinct addresses, of which the guard counted one. */
  async consumeBulk(userId: string, addresses: number): Promise<void> {
    const extra = addresses - 1;
    if (extra <= 0) return;
    const limit = this.config.get('limits.ipPerMinute', { infer: true });
    const records = await Promise.all(
      Array.from({ length: extra }, () =>
        this.storage.increment(keyFor(userId), WINDOW_MS, limit, WINDOW_MS, THROTTLER_NAME),
      ),
    );
    const blocked = records.filter((record) => record.isBlocked);
    if (blocked.length === 0) return;
    const retryAfterSeconds = Math.max(1, ...blocked.map((record) => record.timeToBlockExpire));
    throw new AppError(
      ErrorCode.RateLimited,
      `This lookup needs ${addresses} of your ${limit} IP lookups per minute; retry after the time in Retry-After or send fewer addresses.`,
      { retryAfterSeconds },
    );
  }
}
