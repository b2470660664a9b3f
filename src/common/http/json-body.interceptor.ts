import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { hasJsonBody, readJsonBody } from './json-body';

/**
 * Parses JSON bodies after the guards, not in middleware before them: a request refused with 401,
 * 403 or 429 is answered without its body being read (docs/api.md, "Request hygiene"), and the
 * refusal closes the connection instead of draining it. Params are resolved after interceptors, so
 * `@Body()` sees the parsed body.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  constructor(private readonly limitBytes: number) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<Request>();
      if (req.body === undefined && hasJsonBody(req)) req.body = await readJsonBody(req, this.limitBytes);
    }
    return next.handle();
  }
}
