import type { CookieOptions } from 'express';
import type { AuthSettings } from '../common/auth-settings';

/**
 * The refresh cookie: HttpOnly, Secure, scoped to /auth (refresh and logout live there), never
 * readable by scripts. `__Secure-` is only valid on a Secure cookie, so a development setup with
 * AUTH_COOKIE_SECURE=false uses the bare name.
 */
export function refreshCookieName(o: AuthSettings): string {
  return o.cookie.secure ? '__Secure-refresh_token' : 'refresh_token';
}

export function refreshCookieOptions(o: AuthSettings, maxAgeSeconds?: number): CookieOptions {
  return {
    httpOnly: o.cookie.httpOnly,
    secure: o.cookie.secure,
    sameSite: o.cookie.sameSite.toLowerCase() as 'strict' | 'lax' | 'none',
    path: '/auth',
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds * 1000 } : {}),
  };
}
