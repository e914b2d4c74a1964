import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import helmet from 'helmet';
import { buildAuthOpenApiDocument } from './auth';
import type { AppConfig } from './config';

/**
 * This application's own HTTP choices (the host's, not auth's): security headers, the proxy
 * trust setting, shutdown hooks. Auth's routes bring their own body policy, cookie reading and
 * headers, and work the same without any of this.
 */
export function configureApp(app: INestApplication, config: AppConfig): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  // API answers are small and auth's are no-store: an ETag would be a hash of every body for nothing.
  express.set('etag', false);
  // Who the client is (rate limits, audit): X-Forwarded-For only through the proxies TRUST_PROXY names.
  express.set('trust proxy', config.trustProxy === false ? false : parseTrustProxy(config.trustProxy));
  express.use(
    helmet({
      contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"], formAction: ["'self'"] } },
      referrerPolicy: { policy: 'no-referrer' },
      hsts: { maxAge: 31536000, includeSubDomains: true },
      frameguard: { action: 'deny' },
    }),
  );
  app.enableShutdownHooks();
  if (config.openApi) {
    // The host's choice of paths; JSON only (no YAML route). Built at the first request, not at boot.
    SwaggerModule.setup('docs', app, () => apiDocument(app), { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  }
}

/**
 * The document /openapi.json serves and `npm run openapi` writes: auth's routes. A host module
 * documented with @nestjs/swagger's decorators would join them through `include`.
 */
export function apiDocument(app: INestApplication): OpenAPIObject {
  return buildAuthOpenApiDocument(app, { include: [] });
}

function parseTrustProxy(v: string): string | number {
  return /^\d+$/.test(v) ? Number(v) : v;
}
