import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request } from 'express';
import { JwtAuthGuard } from './auth/guards/jwt-auth.guard';
import { hasJsonBody, readJsonBody } from './common/http/json-body';
import { AppConfig } from './config/config.types';
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
 *
 * Last, an admitted request's JSON body is read (docs/api.md, "Request hygiene"): a request refused
 * with 401, 403 or 429 is answered without its body being read, and the refusal closes the
 * connection instead of draining it. Here rather than in a global interceptor, which would put
 * every route — GETs included — through Nest's RxJS interceptor chain (about a tenth of a cached
 * lookup's CPU, docs/performance.md).
 */
@Injectable()
export class AppGuard implements CanActivate {
  private readonly jsonBodyLimitBytes: number;

  constructor(
    private readonly limits: RateLimiter,
    private readonly jwt: JwtAuthGuard,
    config: ConfigService<AppConfig, true>,
  ) {
    this.jsonBodyLimitBytes = config.get('app.jsonBodyLimitBytes', { infer: true });
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ipCounts = this.limits.countsFor(context, 'ip');
    if (this.jwt.admitRemembered(context)) {
      await this.limits.enforce(context, [...ipCounts, ...this.limits.countsFor(context, 'user')]);
    } else {
      await this.limits.enforce(context, ipCounts);
      await this.jwt.canActivate(context);
      await this.limits.enforce(context, this.limits.countsFor(context, 'user'));
    }
    const req = context.switchToHttp().getRequest<Request>();
    if (req.body === undefined && hasJsonBody(req)) req.body = await readJsonBody(req, this.jsonBodyLimitBytes);
    return true;
  }
}
