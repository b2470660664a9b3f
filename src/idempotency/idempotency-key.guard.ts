import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { readIdempotencyKey } from './idempotency-key';
import { malformedKey } from './idempotency.errors';

/**
 * Refuses a malformed `Idempotency-Key` with 400 before anything is read or written: guards run
 * after the global one (so a missing token is still a 401) and before every interceptor, so an
 * upload is refused before its body is read.
 */
@Injectable()
export class IdempotencyKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const check = readIdempotencyKey(context.switchToHttp().getRequest<Request>().headers);
    if (!check.ok) throw malformedKey(check.problem);
    return true;
  }
}
