import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Request, Response } from 'express';
import { catchError, Observable, of, throwError } from 'rxjs';
import { ValidationFailedException } from '../common/errors/validation.exception';
import { IDEMPOTENT_REPLAYED_HEADER, readIdempotencyKey } from './idempotency-key';
import { keyInFlight, keyReused, malformedKey } from './idempotency.errors';
import type { StoredResponse } from './idempotency-store';
import { IdempotencyService } from './idempotency.service';
import { fingerprintOf } from './request-fingerprint';
import { settleBeforeSending } from './response-recorder';

/**
 * `Idempotency-Key` on a route marked `@Idempotent()` (docs/api.md, Idempotency keys), per user:
 * - first request with a key: the key is reserved (in flight), the handler runs, and its response
 *   is kept for replays or the key freed (see replay-policy.ts) before the response leaves;
 * - same key, same request, answered: the first response again, `Idempotent-Replayed: true`, the
 *   handler not run;
 * - same key, same request, still being served: 409 `idempotency-key-in-flight` with Retry-After;
 * - same key, different request: 422 `idempotency-key-reused`.
 *
 * The fingerprint needs the parsed body, an upload's too, so this interceptor runs last, right
 * before the handler's pipes; a stored response found here is handed out as a `StoredReplay` error
 * to IdempotencyReplayInterceptor, which runs first, so the route's other interceptors (one that
 * maps the handler's value to a status and headers) never see it. IdempotencyModule puts the two
 * at the ends of the route's interceptors at start-up, wherever the decorator stands among them
 * (see idempotent-routes.ts).
 *
 * Used from other rooms' modules, which do not import IdempotencyModule: its service is looked up
 * in the application's container on first use.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private service: IdempotencyService | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { user?: { id?: string } }>();
    const check = readIdempotencyKey(req.headers);
    if (!check.ok) throw malformedKey(check.problem);
    const userId = req.user?.id;
    if (check.key === undefined || userId === undefined) return next.handle();

    const claim = await this.idempotency().claim(userId, check.key, fingerprintOf(req));
    switch (claim.kind) {
      case 'mismatch':
        throw keyReused();
      case 'in-flight':
        throw keyInFlight();
      case 'replay':
        throw new StoredReplay(claim.response);
    }

    let refusedBeforeHandler = false;
    settleBeforeSending(http.getResponse<Response>(), (response) =>
      this.idempotency().settle(claim.reservation, response, refusedBeforeHandler),
    );
    return next.handle().pipe(
      catchError((error: unknown) => {
        // The global ValidationPipe refused the body or a parameter: the operation never ran.
        refusedBeforeHandler = error instanceof ValidationFailedException;
        return throwError(() => error);
      }),
    );
  }

  private idempotency(): IdempotencyService {
    const service = this.service ?? this.moduleRef.get<IdempotencyService>(IdempotencyService, { strict: false });
    this.service = service;
    return service;
  }
}

/**
 * Answers a request whose key holds a stored response with that response: its status and headers,
 * `Idempotent-Replayed: true`, and the body text, which Nest sends as it is.
 */
@Injectable()
export class IdempotencyReplayInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (!(error instanceof StoredReplay)) return throwError(() => error);
        const res = context.switchToHttp().getResponse<Response>();
        res.status(error.response.status);
        for (const [name, value] of Object.entries(error.response.headers)) res.setHeader(name, value);
        res.setHeader(IDEMPOTENT_REPLAYED_HEADER, 'true');
        return of(error.response.body);
      }),
    );
  }
}

/** Not a failure: carries a stored response past the route's other interceptors (see above). */
export class StoredReplay {
  constructor(readonly response: StoredResponse) {}
}
