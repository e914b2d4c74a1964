import type { Request } from 'express';
import type { ClientContext } from './auth.service';
import { requestIdOf } from './request-id.helper';

type WithAddress = Request & { authClientAddress?: string };

/**
 * `req.ip` (the address as the trusted proxies, TRUST_PROXY, establish it), computed once per
 * request: Express recomputes it through proxy-addr on every read, and the rate limiter and the
 * controller both need it.
 */
export function clientAddressOf(req: Request): string | undefined {
  const r = req as WithAddress;
  if (r.authClientAddress === undefined) r.authClientAddress = req.ip ?? req.socket?.remoteAddress;
  return r.authClientAddress;
}

/** HTTP -> plain data for the services: who is asking, and the request's id for the audit trail. */
export function clientOf(req: Request): ClientContext {
  return { userAgent: req.headers['user-agent'], ip: clientAddressOf(req), requestId: requestIdOf(req) };
}
