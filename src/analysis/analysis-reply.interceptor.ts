import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, Observable } from 'rxjs';
import type { AnalysisReply } from './analyses.service';
import type { AnalysisView } from './analysis.types';

/**
 * Answers an `AnalysisReply` with its status code (200, 201 or 202) and headers (`Location`,
 * `Preference-Applied`) and the analysis as the body, so handlers stay one call and the status
 * stays the service's decision.
 */
@Injectable()
export class AnalysisReplyInterceptor implements NestInterceptor<AnalysisReply, AnalysisView> {
  intercept(context: ExecutionContext, next: CallHandler<AnalysisReply>): Observable<AnalysisView> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map(({ status, analysis, headers }) => {
        res.status(status);
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        return analysis;
      }),
    );
  }
}
