import type { Request } from 'express';
import type { RequestOrigin } from './request-origin.model';
import { CSRF_HEADER } from './session-cookie.options';
import { requestIdOf } from '../http/request-id.helper';

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : undefined;
}

/** HTTP -> plain data for BrowserSessionService. */
export function requestOriginOf(req: Request): RequestOrigin {
  return {
    method: req.method.toUpperCase(),
    origin: header(req, 'origin'),
    secFetchSite: header(req, 'sec-fetch-site'),
    selfOrigin: `${req.protocol}://${req.get('host') ?? ''}`.toLowerCase(),
    csrfToken: header(req, CSRF_HEADER),
    requestId: requestIdOf(req),
  };
}
