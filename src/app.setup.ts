import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import { json, NextFunction, Request, Response } from 'express';
import { AuthError } from './auth';
import helmet from 'helmet';
import type { AppConfig } from './config';

/** Largest accepted request body. Auth payloads are tiny; anything bigger is refused with 413. */
export const BODY_LIMIT = '16kb';
const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * HTTP hardening shared by main.ts and the e2e suites, so tests exercise the real stack:
 * security headers, bounded bodies, cookies, the proxy trust setting.
 */
export function configureApp(app: INestApplication, config: AppConfig): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  // API answers are small and the auth ones no-store: an ETag would be a SHA-1 of every body for nothing.
  express.set('etag', false);
  express.set('trust proxy', config.trustProxy === false ? false : parseTrustProxy(config.trustProxy));
  express.use(
    helmet({
      contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"], formAction: ["'self'"] } },
      referrerPolicy: { policy: 'no-referrer' },
      hsts: { maxAge: 31536000, includeSubDomains: true },
      frameguard: { action: 'deny' },
    }),
  );
  // JSON only: a form-encoded or text body is refused outright (415), which also keeps a
  // cross-site <form> from posting credentials (login CSRF) — browsers cannot send JSON cross-site
  // without a CORS preflight.
  express.use((req: Request, _res: Response, next: NextFunction) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    next(hasBody && !JSON_TYPE.test(req.headers['content-type'] ?? '') ? new AuthError('UNSUPPORTED_MEDIA_TYPE') : undefined);
  });
  express.use(json({ limit: BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'] }));
  // Nest turns body-parser's SyntaxError into a bare 400; keep the precise, stable code instead.
  express.use((err: unknown, _req: Request, _res: Response, next: NextFunction) => {
    const type = (err as { type?: string } | null)?.type;
    next(type === 'entity.parse.failed' ? new AuthError('MALFORMED_JSON') : err);
  });
  express.use(cookieParser());
  app.enableShutdownHooks();
}

function parseTrustProxy(v: string): string | number {
  return /^\d+$/.test(v) ? Number(v) : v;
}
