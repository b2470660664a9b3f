import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { JwtAuthGuard } from './auth/guards/jwt-auth.guard';
import { IpThrottlerGuard, UserThrottlerGuard } from './rate-limit/rate-limit.guards';

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
    private readonly ip: IpThrottlerGuard,
    private readonly jwt: JwtAuthGuard,
    private readonly user: UserThrottlerGuard,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ipCounts = this.ip.countsFor(context);
    if (this.jwt.admitRemembered(context)) {
      return this.ip.enforce(context, [...ipCounts, ...this.user.countsFor(context)]);
    }
    await this.ip.enforce(context, ipCounts);
    await this.jwt.canActivate(context);
    return this.user.enforce(context, this.user.countsFor(context));
  }
}
