import { CanActivate, ExecutionContext, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport, { Strategy } from 'passport';
import { RequestContext } from '../../common/context/request-context';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator';
import { AuthenticatedUser } from '../auth.types';

/** The passport strategies that may authenticate a request, in the order they are tried. */
export const ACCESS_TOKEN_STRATEGIES = Symbol('ACCESS_TOKEN_STRATEGIES');

const UNAUTHORIZED_DETAIL = 'A valid access token is required (Authorization: Bearer <token>).';

type Outcome = { user: AuthenticatedUser } | { reason: string };

/**
 * The global guard: every route needs a valid access token unless marked `@Public()`. Tries this
 * app's own strategies (Argus tokens, then the external provider's when configured) and sets
 * `req.user` and the request context's user id.
 *
 * The strategy instances are handed to passport directly (a fresh `Object.create` per request, as
 * passport does for named strategies) rather than by name from passport's process-wide registry,
 * so several app instances in one process never verify with each other's keys.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly logger = new Logger(JwtAuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    @Inject(ACCESS_TOKEN_STRATEGIES) private readonly strategies: Strategy[],
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;

    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const reasons: string[] = [];
    for (const strategy of this.strategies) {
      const outcome = await authenticate(strategy, req, res);
      if ('user' in outcome) {
        req.user = outcome.user;
        RequestContext.setUserId(outcome.user.id);
        return true;
      }
      reasons.push(outcome.reason);
    }
    this.logger.debug({ msg: 'access token rejected', reasons });
    throw new UnauthorizedException(UNAUTHORIZED_DETAIL);
  }
}

function authenticate(strategy: Strategy, req: Request, res: Response): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    const attempt = Object.create(strategy) as Strategy;
    const middleware = passport.authenticate(
      attempt,
      { session: false },
      (err: unknown, user?: Express.User | false | null, info?: unknown) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        if (user) return resolve({ user: user as AuthenticatedUser });
        resolve({ reason: describe(info) });
      },
    ) as (req: Request, res: Response, next: (err?: unknown) => void) => void;
    middleware(req, res, (err?: unknown) => reject(err ?? new UnauthorizedException(UNAUTHORIZED_DETAIL)));
  });
}

/** Why a strategy said no (jsonwebtoken's error message, never the token). */
function describe(info: unknown): string {
  if (info instanceof Error) return info.message;
  if (typeof info === 'string') return info;
  return 'rejected';
}
