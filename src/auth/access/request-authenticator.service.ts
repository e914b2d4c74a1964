import { Inject, Injectable } from '@nestjs/common';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import { BrowserSessionService } from '../browser/browser-session.service';
import type { RequestOrigin } from '../browser/request-origin.model';
import { sessionCookieName } from '../browser/session-cookie.options';
import { AuthError } from '../errors/auth-error.model';
import { AccessClaims, AccessTokenService } from '../tokens/access-token.service';
import { RevocationCheck, RevocationView } from '../revocation/revocation-view.service';
import type { AuthPrincipal } from './auth-principal.model';

/** Longest bearer token looked at (an access token is ~500 characters). */
const MAX_BEARER_LENGTH = 4096;

/**
 * What the global guard delegates to: bearer token -> principal, with revocation enforced from
 * the local view (no network round trip unless the view is stale); or, without an Authorization
 * header, the browser-session cookie -> principal (a store read; CSRF enforced on unsafe methods).
 */
@Injectable()
export class RequestAuthenticator {
  /** The browser-session cookie the guard looks for when there is no Authorization header. */
  readonly sessionCookieName: string;

  constructor(
    private readonly tokens: AccessTokenService,
    private readonly revocations: RevocationView,
    private readonly browserSessions: BrowserSessionService,
    @Inject(AUTH_SETTINGS) options: AuthSettings,
  ) {
    this.sessionCookieName = sessionCookieName(options);
  }

  /** Browser profile: the session cookie's value and what the request says about its origin. */
  authenticateSession(cookie: string, req: RequestOrigin): Promise<AuthPrincipal> {
    return this.browserSessions.authenticate(cookie, req);
  }

  /**
   * The token from an Authorization header value, or null when there is none: `Bearer` in any case
   * (RFC 9110 §11.1), one space, then 1-4096 characters; anything else is malformed. The token's
   * own characters are left to the verifier (a token verified before is known good, any other is
   * held to the JWS shape there; either way a bad one is ACCESS_TOKEN_INVALID): no scan of ~500
   * characters on every guarded request.
   */
  static bearerFrom(header: string | undefined): string | null | 'malformed' {
    if (header === undefined || header === '') return null;
    const n = header.length;
    if (n < 8 || n > 7 + MAX_BEARER_LENGTH || header.charCodeAt(6) !== 0x20 || !isBearerScheme(header)) return 'malformed';
    return header.slice(7);
  }

  /** Synchronous when the view is fresh (the common case): returns the principal or throws. */
  authenticate(token: string): AuthPrincipal | Promise<AuthPrincipal> {
    return this.principalFor(this.tokens.verify(token));
  }

  /** The signature and claims of a bearer token (ACCESS_TOKEN_INVALID / _EXPIRED otherwise); no revocation check. */
  verify(token: string): AccessClaims {
    return this.tokens.verify(token);
  }

  /** Verified claims -> the principal, unless their session is revoked (revocation view; a store read only when stale). */
  principalFor(claims: AccessClaims): AuthPrincipal | Promise<AuthPrincipal> {
    const state = this.revocations.check(claims.sid, claims.sub);
    if (state !== 'stale') return principalIf(state, claims);
    // Past the staleness budget: confirm against the store; still stale means it is unreachable.
    return this.revocations.confirm().then(() => principalIf(this.revocations.check(claims.sid, claims.sub), claims));
  }
}

/** The first six characters spell "bearer", in any case. */
function isBearerScheme(h: string): boolean {
  return (
    (h.charCodeAt(0) | 0x20) === 0x62 &&
    (h.charCodeAt(1) | 0x20) === 0x65 &&
    (h.charCodeAt(2) | 0x20) === 0x61 &&
    (h.charCodeAt(3) | 0x20) === 0x72 &&
    (h.charCodeAt(4) | 0x20) === 0x65 &&
    (h.charCodeAt(5) | 0x20) === 0x72
  );
}

function principalIf(state: RevocationCheck, c: AccessClaims): AuthPrincipal {
  if (state === 'revoked') throw new AuthError('SESSION_REVOKED');
  if (state === 'stale') throw new AuthError('STORE_UNAVAILABLE', { retryAfter: 5 });
  return { sub: c.sub, sid: c.sid, authTime: c.authTime, expiresAt: c.exp, via: 'bearer', claims: c.claims };
}
