import cors, { type CorsOptions } from 'cors';
import type { NextFunction, Request, Response } from 'express';

/**
 * The `cors` package (what `app.enableCors` mounts), run only for requests a browser's CORS check
 * concerns: those with an `Origin` header, and every OPTIONS. The package rebuilds its options and
 * header list on every call; most API traffic (mobile apps, servers, same-origin GETs) sends no
 * `Origin`, and for it the only CORS header that matters is `Vary: Origin`, so that a shared cache
 * never hands its answer to a cross-origin request.
 */
export function corsMiddleware(options: CorsOptions) {
  const handle = cors(options);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.headers.origin !== undefined || req.method === 'OPTIONS') {
      handle(req, res, next);
      return;
    }
    res.vary('Origin');
    next();
  };
}
