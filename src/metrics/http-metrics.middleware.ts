import type { NextFunction, Request, Response } from 'express';
import { routeTemplate } from '../common/route-template';
import { MetricsService } from './metrics.service';

/** Records every response (404s included) by route template once it has been sent. */
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.recordHttp(req.method, routeTemplate(req), res.statusCode, seconds);
    });
    next();
  };
}
