import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { RequestContext } from '../common/context/request-context';
import { AppError, ErrorCode } from '../common/errors/app-error';
import { COUNTER_STORE, CounterStore, CountRequest } from './counter-store';
import { RATE_LIMIT_SCOPE_KEY, RateLimitScope, SKIP_RATE_LIMIT_KEY } from './rate-limit.decorator';
import { RateLimitDefinition, rateLimitKey, RateLimitName, RateLimitSubject, userTracker } from './rate-limits';
import type { RateLimitDecision } from './sliding-window';

/** The configured limits, in counting order (RateLimitModule builds them from configuration). */
export const RATE_LIMITS = Symbol('RATE_LIMITS');

/** A hit to count for a request, and the limit it counts against. */
export interface RateLimitCount extends CountRequest {
  definition: RateLimitDefinition;
}

type Applicable = Record<RateLimitSubject, readonly RateLimitDefinition[]>;

const NO_COUNTS: readonly RateLimitCount[] = Object.freeze([]);

/**
 * Counts requests against the limits and answers for them (docs/api.md, Conventions): `X-RateLimit-*` of every
 * limit that counted an allowed request, and on a 429 only the refusing limit's own headers
 * (`Remaining: 0`, `Reset` = `Retry-After`) plus `Retry-After`. The AppGuard calls it twice per
 * request — by client address before authentication, by user after — or once for both when the
 * token is already known.
 */
@Injectable()
export class RateLimiter {
  /** Which limits count a route: fixed at start-up, so decided once per handler. */
  private readonly applicable = new WeakMap<object, WeakMap<object, Applicable>>();
  /**
   * The response of each request counted by a user limit, by its request context, so a limit
   * counted later by the handler (`countExtra`: bulk lookups) can answer with its own headers.
   */
  private readonly responses = new WeakMap<object, Response>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(COUNTER_STORE) private readonly store: CounterStore,
    @Inject(RATE_LIMITS) private readonly definitions: readonly RateLimitDefinition[],
  ) {}

  /** The hits a request adds to the limits of `subject` that count its route. */
  countsFor(context: ExecutionContext, subject: RateLimitSubject): readonly RateLimitCount[] {
    const definitions = this.applicableFor(context)[subject];
    if (definitions.length === 0) return NO_COUNTS;
    const req = context.switchToHttp().getRequest<Request & { user?: { id: string } }>();
    const tracker =
      subject === 'ip' ? clientAddress(req) : req.user ? userTracker(req.user.id) : `ip:${clientAddress(req)}`;
    return definitions.map((definition) => ({
      key: rateLimitKey(definition.name, tracker),
      windowMs: definition.windowMs,
      limit: definition.limit,
      cost: 1,
      definition,
    }));
  }

  /**
   * Adds the hits — one store call, in order, none after the first refused — and sets each allowed
   * counter's headers, or refuses with the refusing limit's. `counts` may mix subjects: the
   * AppGuard counts a known user's request by address and by user at once.
   */
  enforce(context: ExecutionContext, counts: readonly RateLimitCount[]): Promise<true> {
    if (counts.length === 0) return Promise.resolve(true);
    const res = context.switchToHttp().getResponse<Response>();
    if (counts.some(({ definition }) => definition.subject === 'user')) {
      const store = RequestContext.current();
      if (store) this.responses.set(store, res);
    }
    // A promise chain rather than async/await: this runs on every request.
    return this.store.countAll(counts).then((decisions) => {
      const last = decisions.length - 1;
      if (!decisions[last].allowed) this.refuse(res, counts[last].definition, decisions[last]);
      for (let i = 0; i <= last; i++) setHeaders(res, counts[i].definition, decisions[i]);
      return true;
    });
  }

  /**
   * Counts `cost` more hits of the current request against the user limit `name` (a bulk lookup's
   * extra addresses): all or nothing — a refused batch counts nothing and answers 429 with that
   * limit's headers; an allowed one updates them.
   */
  async countExtra(name: RateLimitName, userId: string, cost: number, detail: string): Promise<void> {
    const definition = this.definitions.find((candidate) => candidate.name === name);
    if (!definition || cost <= 0) return;
    const key = rateLimitKey(name, userTracker(userId));
    const [decision] = await this.store.countAll([
      { key, windowMs: definition.windowMs, limit: definition.limit, cost },
    ]);
    const store = RequestContext.current();
    const res = store && this.responses.get(store);
    if (!decision.allowed) this.refuse(res, definition, decision, detail);
    if (res && !res.headersSent) setHeaders(res, definition, decision);
  }

  private refuse(
    res: Response | undefined,
    definition: RateLimitDefinition,
    decision: RateLimitDecision,
    detail = `Rate limit of ${definition.limit} requests per minute exceeded; retry after the time in Retry-After.`,
  ): never {
    if (res && !res.headersSent) {
      for (const { headers } of this.definitions) {
        res.removeHeader(headers.limit);
        res.removeHeader(headers.remaining);
        res.removeHeader(headers.reset);
      }
      setHeaders(res, definition, decision);
      res.setHeader('Retry-After', String(decision.retryAfter));
    }
    throw new AppError(ErrorCode.RateLimited, detail, { retryAfterSeconds: decision.retryAfter });
  }

  /** `default` counts every route, a scope only the routes marked `@RateLimit(scope)`; `@SkipRateLimit` none. */
  private applicableFor(context: ExecutionContext): Applicable {
    const handler = context.getHandler();
    const classRef = context.getClass();
    let byClass = this.applicable.get(handler);
    if (!byClass) this.applicable.set(handler, (byClass = new WeakMap()));
    let applicable = byClass.get(classRef);
    if (!applicable) {
      const targets = [handler, classRef];
      const skip = this.reflector.getAllAndOverride<boolean | undefined>(SKIP_RATE_LIMIT_KEY, targets) === true;
      const scope = this.reflector.getAllAndOverride<RateLimitScope | undefined>(RATE_LIMIT_SCOPE_KEY, targets);
      const counting = skip ? [] : this.definitions.filter(({ name }) => name === 'default' || name === scope);
      applicable = {
        ip: counting.filter(({ subject }) => subject === 'ip'),
        user: counting.filter(({ subject }) => subject === 'user'),
      };
      byClass.set(classRef, applicable);
    }
    return applicable;
  }
}

/** The socket address, or the TRUST_PROXY hop (Express's `req.ip`). */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

function setHeaders(res: Response, { limit, headers }: RateLimitDefinition, decision: RateLimitDecision): void {
  res.setHeader(headers.limit, limit);
  res.setHeader(headers.remaining, decision.remaining);
  res.setHeader(headers.reset, decision.reset);
}
