import { CanActivate, ExecutionContext, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Strategy } from 'passport';
import { RequestContext } from '../../common/context/request-context';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator';
import { AuthenticatedUser } from '../auth.types';
import { VerifiedTokens } from './verified-tokens';

/** The passport strategies that may authenticate a request, in the order they are tried. */
export const ACCESS_TOKEN_STRATEGIES = Symbol('ACCESS_TOKEN_STRATEGIES');

const UNAUTHORIZED_DETAIL = 'A valid access token is required (Authorization: Bearer <token>).';

type Outcome = { user: AuthenticatedUser } | { reason: string };

/** How many distinct verified tokens are remembered, and for how long at most. */
const VERIFIED_TOKENS_MAX_ENTRIES = 10_000;
const VERIFIED_TOKENS_MAX_AGE_MS = 60_000;

/**
 * The global guard: every route needs a valid access token unless marked `@Public()`. Tries this
 * app's own strategies (Argus tokens, then the external provider's when configured) and sets
 * `req.user` and the request context's user id.
 *
 * The strategy instances are run directly (see `authenticate`) rather than by name from passport's
 * process-wide registry, so several app instances in one process never verify with each other's keys.
 * A header once accepted is remembered until its token expires (at most a minute, see
 * VerifiedTokens): clients repeat the same token on every request.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly logger = new Logger(JwtAuthGuard.name);
  private readonly verified = new VerifiedTokens(VERIFIED_TOKENS_MAX_ENTRIES, VERIFIED_TOKENS_MAX_AGE_MS);

  constructor(
    private readonly reflector: Reflector,
    @Inject(ACCESS_TOKEN_STRATEGIES) private readonly strategies: Strategy[],
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const authorization = req.headers.authorization;
    if (authorization === undefined) return this.reject(['no Authorization header']);
    const known = this.verified.get(authorization);
    if (known) return admit(req, known);

    const reasons: string[] = [];
    for (const strategy of this.strategies) {
      const outcome = await authenticate(strategy, req);
      if ('user' in outcome) {
        this.verified.remember(authorization, outcome.user);
        return admit(req, outcome.user);
      }
      reasons.push(outcome.reason);
    }
    return this.reject(reasons);
  }

  /**
   * Admits a request to a protected route whose Authorization header is one already verified,
   * without awaiting anything; false (and nothing set) otherwise, for `canActivate` to decide.
   */
  admitRemembered(context: ExecutionContext): boolean {
    if (this.isPublic(context)) return false;
    const req = context.switchToHttp().getRequest<Request>();
    const authorization = req.headers.authorization;
    const known = authorization === undefined ? undefined : this.verified.get(authorization);
    return known !== undefined && admit(req, known);
  }

  private isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  private reject(reasons: string[]): never {
    this.logger.debug({ msg: 'access token rejected', reasons });
    throw new UnauthorizedException(UNAUTHORIZED_DETAIL);
  }
}

function admit(req: Request, user: AuthenticatedUser): true {
  req.user = user;
  RequestContext.setUserId(user.id);
  return true;
}

/** The actions passport gives a strategy to report its decision (passport's `Strategy` augmentation). */
interface StrategyAttempt {
  authenticate(req: Request, options: { session: boolean }): void;
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(err: unknown): void;
  pass(): void;
  redirect(url: string, status?: number): void;
}

/**
 * Runs one strategy as `passport.authenticate` does — a fresh `Object.create(strategy)` given the
 * action functions, then `authenticate(req)` — without building passport's middleware closure for
 * every request.
 */
function authenticate(strategy: Strategy, req: Request): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    const attempt = Object.create(strategy) as StrategyAttempt;
    attempt.success = (user) =>
      resolve(user ? { user: user as AuthenticatedUser } : { reason: 'no user for this token' });
    attempt.fail = (challenge) => resolve({ reason: describe(challenge) });
    attempt.error = (err) => reject(err instanceof Error ? err : new Error(String(err)));
    attempt.pass = () => resolve({ reason: 'strategy passed' });
    attempt.redirect = () => resolve({ reason: 'strategy redirected' });
    attempt.authenticate(req, { session: false });
  });
}

/** Why a strategy said no (jsonwebtoken's error message, never the token). */
function describe(info: unknown): string {
  if (info instanceof Error) return info.message;
  if (typeof info === 'string') return info;
  return 'rejected';
}
