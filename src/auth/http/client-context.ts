import type { Request } from 'express';
import type { ClientContext } from '../sessions/session-lifecycle.service';
import { requestIdOf } from './request-id.helper';

/** Kept beside the request rather than as a new property of it (a megamorphic store per request). */
const addresses = new WeakMap<object, string>();

/**
 * `req.ip` (the address as the trusted proxies, TRUST_PROXY, establish it), computed once per
 * request: Express recomputes it through proxy-addr on every read, and the rate limiter and the
 * controller both need it.
 */
export function clientAddressOf(req: Request): string | undefined {
  let ip = addresses.get(req);
  if (ip === undefined) {
    // An address-less request (a closed socket) is asked again: rare, and nothing to keep.
    // Without a trusted proxy req.ip is the socket's address, but Express still parses
    // X-Forwarded-For through proxy-addr to find that out: skip it then.
    ip = req.app?.get('trust proxy') === false ? req.socket?.remoteAddress : (req.ip ?? req.socket?.remoteAddress);
    if (ip !== undefined) addresses.set(req, ip);
  }
  return ip;
}

/** HTTP -> plain data for the services: who is asking, and the request's id for the audit trail. */
export function clientOf(req: Request): ClientContext {
  return { userAgent: req.headers['user-agent'], ip: clientAddressOf(req), requestId: requestIdOf(req) };
}
