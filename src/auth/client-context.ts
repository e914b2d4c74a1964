import type { Request } from 'express';
import type { ClientContext } from './auth.service';
import { requestIdOf } from './request-id.helper';

/** HTTP -> plain data for the services: who is asking, and the request's id for the audit trail. */
export function clientOf(req: Request): ClientContext {
  return { userAgent: req.get('user-agent'), ip: req.ip, requestId: requestIdOf(req) };
}
