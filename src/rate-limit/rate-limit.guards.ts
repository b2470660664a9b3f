import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerOptions } from '@nestjs/throttler';
import { THROTTLER_SKIP } from '@nestjs/throttler/dist/throttler.constants';
import type { Request, Response } from 'express';
import { RATE_LIMIT_SCOPE_KEY, RateLimitScope } from './rate-limit.decorator';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { CounterStorage, CountRequest, incrementInTurn, isCounterStorage } from './counter-storage';

/** Throttlers counted per client address; they run before authentication. */
const IP_THROTTLERS = new Set(['default', 'auth']);
/** Throttlers counted per authenticated user; they run after the JWT guard. */
const USER_THROTTLERS = new Set(['analysis', 'ip']);

/** A hit to count for a request: the storage's arguments, whose client it is, and its headers. */
export interface RateLimitCount extends CountRequest {
  tracker: string;
  headers: CountingThrottler['headers'];
}

const NO_COUNTS: readonly RateLimitCount[] = Object.freeze([]);

abstract class ScopedThrottlerGuard extends ThrottlerGuard {
  protected abstract readonly throttlerNames: ReadonlySet<string>;
  /** Which of this guard's throttlers count a route: fixed at start-up, so read once per handler. */
  private readonly applicable = new WeakMap<object, WeakMap<object, CountingThrottler[]>>();
  private counting: CountingThrottler[] = [];
  private incrementAll!: CounterStorage['incrementAll'];

  /** The client this guard counts a request against. */
  protected abstract trackerOf(req: Request): string;

  /** This guard's throttlers, with their configured limits. */
  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.counting = this.throttlers
      .filter((throttler) => this.throttlerNames.has(throttler.name ?? 'default'))
      .map(countingThrottler);
    const storage = this.storageService;
    this.incrementAll = isCounterStorage(storage)
      ? (counts) => storage.incrementAll(counts)
      : (counts) => incrementInTurn(storage, counts);
  }

  override canActivate(context: ExecutionContext): Promise<boolean> {
    return this.enforce(context, this.countsFor(context));
  }

  /**
   * ThrottlerGuard's loop without what never changes between requests: whether a throttler counts
   * a route (`default` counts every route, a scope only the routes marked `@RateLimit(scope)`, and
   * `@SkipThrottle` opts out) is decided once per handler, limits are the configured numbers,
   * header names are built once and the tracker is read once per request.
   */
  countsFor(context: ExecutionContext): readonly RateLimitCount[] {
    const counting = this.countingFor(context);
    if (counting.length === 0) return NO_COUNTS;
    const tracker = this.trackerOf(context.switchToHttp().getRequest<Request>());
    return counting.map(({ throttler: { name }, limit, ttl, blockDuration, headers }) => ({
      key: this.generateKey(context, tracker, name),
      ttl,
      limit,
      blockDuration,
      throttlerName: name,
      tracker,
      headers,
    }));
  }

  /**
   * Adds the hits — one storage call, in order, none after the first blocked (CounterStorage) —
   * and answers as the library's `handleRequest` does: `X-RateLimit-*` headers for each counter,
   * `throwThrottlingException` at a blocked one. `counts` may come from either guard: the
   * AppGuard counts a known user's request by IP and by user at once.
   */
  async enforce(context: ExecutionContext, counts: readonly RateLimitCount[]): Promise<true> {
    if (counts.length === 0) return true;
    const records = await this.incrementAll(counts);
    const res = context.switchToHttp().getResponse<Response>();
    for (let i = 0; i < records.length; i++) {
      const { limit, ttl, key, tracker, headers } = counts[i];
      const record = records[i];
      if (record.isBlocked) {
        await this.throwThrottlingException(context, { limit, ttl, key, tracker, ...record });
      }
      res.setHeader(headers.limit, limit);
      res.setHeader(headers.remaining, Math.max(0, limit - record.totalHits));
      res.setHeader(headers.reset, record.timeToExpire);
    }
    return true;
  }

  private countingFor(context: ExecutionContext): CountingThrottler[] {
    const handler = context.getHandler();
    const classRef = context.getClass();
    let byClass = this.applicable.get(handler);
    if (!byClass) this.applicable.set(handler, (byClass = new WeakMap()));
    let counting = byClass.get(classRef);
    if (!counting) {
      const targets = [handler, classRef];
      const scope = this.reflector.getAllAndOverride<RateLimitScope | undefined>(RATE_LIMIT_SCOPE_KEY, targets);
      counting = this.counting.filter(
        ({ throttler: { name } }) =>
          (name === 'default' || name === scope) &&
          !this.reflector.getAllAndOverride<boolean | undefined>(THROTTLER_SKIP + name, targets),
      );
      byClass.set(classRef, counting);
    }
    return counting;
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

interface CountingThrottler {
  throttler: ThrottlerOptions & { name: string };
  limit: number;
  ttl: number;
  blockDuration: number;
  /** `X-RateLimit-*` on allowed responses; a named throttler's carry its name as a suffix. */
  headers: { limit: string; remaining: string; reset: string };
}

/** Limits in this app are numbers from configuration, never per-request functions. */
function countingThrottler(throttler: ThrottlerOptions): CountingThrottler {
  const { limit, ttl, blockDuration = ttl } = throttler;
  if (typeof limit !== 'number' || typeof ttl !== 'number' || typeof blockDuration !== 'number') {
    throw new TypeError(`Throttler "${throttler.name}" must have numeric limit, ttl and blockDuration`);
  }
  const name = throttler.name ?? 'default';
  const suffix = name === 'default' ? '' : `-${name}`;
  const headers = {
    limit: `X-RateLimit-Limit${suffix}`,
    remaining: `X-RateLimit-Remaining${suffix}`,
    reset: `X-RateLimit-Reset${suffix}`,
  };
  return { throttler: { ...throttler, name }, limit, ttl, blockDuration, headers };
}

/** Per client IP (the socket address, or the TRUST_PROXY hop): every /v1 route, and `auth`. */
@Injectable()
export class IpThrottlerGuard extends ScopedThrottlerGuard {
  protected readonly throttlerNames = IP_THROTTLERS;

  protected trackerOf(req: Request): string {
    return req.ip ?? req.socket.remoteAddress ?? 'unknown';
  }
}

/** Per authenticated user, for the `analysis` and `ip` scopes. */
@Injectable()
export class UserThrottlerGuard extends ScopedThrottlerGuard {
  protected readonly throttlerNames = USER_THROTTLERS;

  protected trackerOf(req: Request & { user?: { id: string } }): string {
    return req.user?.id ? `user:${req.user.id}` : `ip:${req.ip ?? 'unknown'}`;
  }
}
