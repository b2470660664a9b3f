import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { JwtAuthGuard } from './auth/guards/jwt-auth.guard';
import { RateLimiter } from './rate-limit/rate-limiter.service';

/**
 * The global guards, in the order DESIGN.md fixes: client-IP limits → JWT → per-user limits (a
 * flood is refused with 429 before its tokens are checked, and a user's limit needs the user).
 * One APP_GUARD runs the three: Nest's guard runner spends three promises on each guard's result,
 * this one a single await per step, and the order reads here, in one place.
 *
 * A token the JWT guard has already verified (its memo, a map lookup) needs no check worth
 * shielding, so then the client's and the user's counters are counted together — one Redis round
 * trip instead of two, still in order: a request refused by its IP limit is not counted against
 * its user (it is admitted first, so its log line names the user even when refused by IP).
 */
@Injectable()
export class AppGuard implements CanActivate {
  constructor(
    private readonly limits: RateLimiter,
    private readonly jwt: JwtAuthGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ipCounts = this.limits.countsFor(context, 'ip');
    if (this.jwt.admitRemembered(context)) {
      return this.limits.enforce(context, [...ipCounts, ...this.limits.countsFor(context, 'user')]);
    }
    await this.limits.enforce(context, ipCounts);
    await this.jwt.canActivate(context);
    return this.limits.enforce(context, this.limits.countsFor(context, 'user'));
  }
}
