import { applyDecorators } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

/** The security schemes' names in the document (buildAuthOpenApiDocument declares them). */
export const SECURITY = {
  bearer: 'bearer',
  refreshCookie: 'refreshCookie',
  sessionCookie: 'sessionCookie',
  csrfHeader: 'csrfHeader',
  introspectionClient: 'introspectionClient',
} as const;

/**
 * AuthenticationGuard's credentials: a bearer token, or else the browser-session cookie, which on
 * an unsafe method also needs the X-CSRF-Token header (both, in one requirement).
 */
export function ApiAuthenticated(method: 'safe' | 'unsafe'): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiSecurity(SECURITY.bearer),
    ApiSecurity(method === 'unsafe' ? { [SECURITY.sessionCookie]: [], [SECURITY.csrfHeader]: [] } : { [SECURITY.sessionCookie]: [] }),
  );
}

/** One more alternative: no credential at all (e.g. the refresh token in the body). */
export const ApiAnonymousAllowed = (): MethodDecorator & ClassDecorator => ApiSecurity({});
