import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { JwtAuthGuard } from './auth/guards/jwt-auth.guard';
import { IpThrottlerGuard, UserThrottlerGuard } from './common/throttling/rate-limit.guards';

/**
 * The global guards, in the order DESIGN.md fixes: client-IP limits → JWT → per-user limits (a
 * flood is refused with 429 before its tokens are checked, and a user's limit needs the user).
 * One APP_GUARD runs the three: Nest's guard runner spends three promises on each guard's result,
 * this loop one, and the order reads here, in one place.
 */
@Injectable()
export class AppGuard implements CanActivate {
  private readonly guards: ReadonlyArray<{ canActivate(context: ExecutionContext): Promise<boolean> }>;

  constructor(ip: IpThrottlerGuard, jwt: JwtAuthGuard, user: UserThrottlerGuard) {
    this.guards = [ip, jwt, user];
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    for (const guard of this.guards) {
      if (!(await guard.canActivate(context))) return false;
    }
    return true;
  }
}
