import type { CookieOptions } from 'express';
import type { AuthSettings } from '../common/auth-settings';

/**
 * The browser-session cookie: `__Host-session` — HttpOnly, Secure, SameSite=Lax (Strict when
 * AUTH_COOKIE_SAME_SITE=Strict), Path=/, no Domain, so it is bound to exactly this origin's host
 * and never readable by scripts. `__Host-` is only valid on a Secure cookie, so a local http
 * set-up with AUTH_COOKIE_SECURE=false uses the bare name `session`.
 */
export function sessionCookieName(o: AuthSettings): string {
  return o.cookie.secure ? '__Host-session' : 'session';
}

export function sessionCookieOptions(o: AuthSettings, maxAgeSeconds?: number): CookieOptions {
  return {
    httpOnly: true,
    secure: o.cookie.secure,
    sameSite: o.cookie.sameSite === 'Strict' ? 'strict' : 'lax',
    path: '/',
    ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds * 1000 } : {}),
  };
}

/** Header the pages send the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
