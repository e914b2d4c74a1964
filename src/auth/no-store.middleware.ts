import type { NextFunction, Request, Response } from 'express';

/**
 * Tokens and session data must never sit in a cache. A plain middleware rather than a Nest
 * interceptor: interceptors cost an AsyncResource bind and an rxjs pipeline per request, which
 * halved the throughput of guarded routes in the benchmark.
 */
export function noStore(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  next();
}
