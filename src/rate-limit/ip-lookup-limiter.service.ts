import { Injectable } from '@nestjs/common';
import { RateLimiter } from './rate-limiter.service';

/**
 * Counts the extra addresses of a bulk lookup against `IP_RATE_LIMIT_PER_MINUTE` (docs/api.md, IP reputation: a
 * bulk lookup counts each address). The per-user limit has already counted the request as one
 * address; this adds the others to the same counter (the same key, built by the RateLimiter), so
 * single and bulk lookups draw from one budget. A batch that does not fit is refused whole (429
 * with the `ip` limit's headers and Retry-After) and counts nothing more.
 */
@Injectable()
export class IpLookupLimiter {
  constructor(private readonly limiter: RateLimiter) {}

  /** Counts a bulk lookup of `addresses` distinct addresses, of which the guard counted one. */
  consumeBulk(userId: string, addresses: number): Promise<void> {
    return this.limiter.countExtra(
      'ip',
      userId,
      addresses - 1,
      `This lookup needs ${addresses} of your IP lookups per minute; retry after the time in Retry-After or send fewer addresses.`,
    );
  }
}
