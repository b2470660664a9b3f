import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { AppError, ErrorCode } from '../errors/app-error';

/** Throttlers counted per client address; they run before authentication. */
const IP_THROTTLERS = new Set(['default', 'auth']);
/** Throttlers counted per authenticated user; they run after the JWT guard. */
const USER_THROTTLERS = new Set(['analysis', 'ip']);

abstract class ScopedThrottlerGuard extends ThrottlerGuard {
  protected abstract readonly throttlerNames: ReadonlySet<string>;

  /** Keeps only this guard's throttlers, so the others are never even considered per request. */
  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.throttlers = this.throttlers.filter((throttler) => this.throttlerNames.has(throttler.name ?? 'default'));
  }

  /** One counter per scope and client, shared by every route of the scope. */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `rl:${throttlerName}:${tracker}`;
  }

  /** A plain `Retry-After` (CONTRACT §1) and a problem body through the global filter. */
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const res = context.switchToHttp().getResponse<Response>();
    const retryAfter = Math.max(1, detail.timeToBlockExpire);
    res.setHeader('Retry-After', String(retryAfter));
    throw new AppError(ErrorCode.RateLimited, `Rate limit of ${detail.limit} requests per minute exceeded.`, {
      retryAfterSeconds: retryAfter,
    });
  }
}

/** Per client IP (the socket address, or the TRUST_PROXY hop): every /v1 route, and `auth`. */
@Injectable()
export class IpThrottlerGuard extends ScopedThrottlerGuard {
  protected readonly throttlerNames = IP_THROTTLERS;

  protected override async getTracker(req: Request): Promise<string> {
    return req.ip ?? req.socket.remoteAddress ?? 'unknown';
  }
}

/** Per authenticated user, for the `analysis` and `ip` scopes. */
@Injectable()
export class UserThrottlerGuard extends ScopedThrottlerGuard {
  protected readonly throttlerNames = USER_THROTTLERS;

  protected override async getTracker(req: Request & { user?: { id: string } }): Promise<string> {
    return req.user?.id ? `user:${req.user.id}` : `ip:${req.ip ?? 'unknown'}`;
  }
}
