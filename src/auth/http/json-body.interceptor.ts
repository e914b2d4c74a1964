import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { json } from 'body-parser';
import type { Request, Response } from 'express';
import { from, type Observable, switchMap } from 'rxjs';
import { AuthError } from '../errors/auth-error.model';
import { toAuthError } from './problem-details.filter';

/** Largest request body auth's routes accept: their payloads are tiny. */
export const BODY_LIMIT_BYTES = 16 * 1024;

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;

const parse = json({ limit: BODY_LIMIT_BYTES, inflate: false, strict: true, type: () => true });

/**
 * Auth's body policy, whatever parsers the host mounted: JSON only (415 UNSUPPORTED_MEDIA_TYPE
 * otherwise, which also keeps a cross-site <form> from posting credentials: a browser cannot send
 * JSON cross-site without a CORS preflight), UTF-8, no content coding, at most 16 KiB (413
 * PAYLOAD_TOO_LARGE), an object or array at the top (400 MALFORMED_JSON). A body the host has
 * already parsed is held to the same rules; an unread one is read here with body-parser.
 * Resolves with `req.body` set (unset when the request has no body).
 */
export function readJsonBody(req: Request, res: Response): Promise<void> {
  const declared = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (declared === undefined || Number(declared) === 0)) return Promise.resolve();
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) return Promise.reject(new AuthError('UNSUPPORTED_MEDIA_TYPE'));
  const charset = CHARSET.exec(type)?.[1].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return Promise.reject(new AuthError('UNSUPPORTED_MEDIA_TYPE'));
  const coding = req.headers['content-encoding'];
  if (coding !== undefined && coding.toLowerCase() !== 'identity') return Promise.reject(new AuthError('UNSUPPORTED_MEDIA_TYPE'));
  if (declared !== undefined && Number(declared) > BODY_LIMIT_BYTES) return Promise.reject(new AuthError('PAYLOAD_TOO_LARGE'));
  if (req.readableEnded) return alreadyParsed(req);
  return new Promise((resolve, reject) => parse(req, res, (err?: unknown) => (err ? reject(toAuthError(err)) : resolve())));
}

/** The host's parser read the body first (express.json, say, with its own limit and strictness). */
function alreadyParsed(req: Request): Promise<void> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return Promise.reject(new AuthError('MALFORMED_JSON'));
  // A chunked body has no Content-Length to check: measure what was parsed.
  if (req.headers['content-length'] === undefined && Buffer.byteLength(JSON.stringify(body)) > BODY_LIMIT_BYTES) {
    return Promise.reject(new AuthError('PAYLOAD_TOO_LARGE'));
  }
  return Promise.resolve();
}

/** `@UseInterceptors(JsonBodyInterceptor)` on auth's controllers: runs after the guards, before the pipes. */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    return from(readJsonBody(http.getRequest<Request>(), http.getResponse<Response>())).pipe(switchMap(() => next.handle()));
  }
}
