import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import type { AppConfig } from './config';
import { jsonBody } from './auth/http/json-body.middleware';

/** Largest accepted request body. Auth payloads are tiny; anything bigger is refused with 413. */
export const BODY_LIMIT_BYTES = 16 * 1024;

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
  // JSON only (415 otherwise: no login CSRF through a cross-site <form>), UTF-8, bounded.
  express.use(jsonBody(BODY_LIMIT_BYTES));
  express.use(cookieParser());
  app.enableShutdownHooks();
}

function parseTrustProxy(v: string): string | number {
  return /^\d+$/.test(v) ? Number(v) : v;
}
