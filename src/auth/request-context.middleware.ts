import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** A caller's X-Request-Id is kept only if it is a short, plain token: it ends up in log lines. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Sets `req.id` (the caller's sane X-Request-Id, else a fresh UUID) on the audited routes (see
 * AuthModule.configure); controllers pass it on in ClientContext.requestId. Deliberately no
 * AsyncLocalStorage: on Node 20 it turns on promise hooks for the whole process, which cost ~25 %
 * of refresh CPU (and ~10 % of /auth/me); a per-request child logger (pino-http) cost another ~10 %.
 */
export function requestContextMiddleware(req: Request, _res: Response, next: NextFunction): void {
  const given = req.headers['x-request-id'];
  // randomUUID draws from a pooled entropy buffer: no syscall per request.
  const reqId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  (req as Request & { id?: string }).id = reqId;
  next();
}
