import { createHmac, timingSafeEqual } from 'node:crypto';
import { NO_CLAIMS } from '../credentials/user-claims.validator';
import { Inject, Injectable } from '@nestjs/common';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import { AuthAudit } from '../observability/auth-audit.service';
import type { AuthPrincipal } from '../access/auth-principal.model';
import { SessionLifecycleService, ClientContext } from '../sessions/session-lifecycle.service';
import { Clock, CLOCK } from '../common/clock.port';
import { AuthError } from '../errors/auth-error.model';
import { RevocationView } from '../revocation/revocation-view.service';
import { deviceLabel } from '../sessions/device-label.parser';
import { sameSecretHash, SESSION_STORE, SessionStore } from '../sessions/session-store.port';
import { hashSecret, ParsedRefreshToken, RefreshTokenCodec } from '../tokens/refresh-token.codec';
import type { MacSecret } from '../tokens/mac-secret.loader';
import { newSessionId } from '../tokens/session-id.codec';
import { MAC_SECRET } from '../tokens/tokens.constants';
import { RequestOrigin, UNSAFE_METHODS } from './request-origin.model';

/** DI token: the cookie codec (refresh-token format under its own tag key). */
export const BROWSER_SESSION_CODEC = Symbol('BROWSER_SESSION_CODEC');
export const BROWSER_SESSION_TAG = 'browser-session-tag/v1';

/** What a browser page may know about its session (never the cookie value). */
export interface BrowserSessionState {
  readonly sub: string;
  readonly sid: string;
  /** Send it as `X-CSRF-Token` on every POST, PUT, PATCH, DELETE. */
  readonly csrfToken: string;
  /** When the session ends at the latest, unused (idle) and in any case (absolute); ISO 8601. */
  readonly idleExpiresAt: string;
  readonly absoluteExpiresAt: string;
}

export interface BrowserLogin {
  /** The cookie's value (goes only into the HttpOnly cookie). */
  readonly cookieValue: string;
  /** Seconds the browser may keep the cookie: the session's absolute lifetime. */
  readonly cookieMaxAge: number;
  readonly state: BrowserSessionState;
}

/**
 * The browser profile: an opaque session cookie backed by the session store (kind 'browser'),
 * with server-side idle and absolute timeouts and CSRF protection.
 *
 * - Cookie value: `b64(userId).sid.secret.tag` (the refresh-token format under a distinct tag key):
 *   the sid carries 80 random bits and the secret 256; only SHA-256(secret) is stored, compared
 *   in constant time. The tag proves we issued it, so a cookie we never issued is refused before
 *   any store read, and login always creates a new session (no fixation).
 * - CSRF: for unsafe methods, the request must come from our origin (`Origin`, or
 *   `Sec-Fetch-Site: same-origin|none` when Origin is absent) AND carry
 *   `X-CSRF-Token = HMAC(key, userId.sid)`, the key derived from the server's MAC secret with its
 *   own HKDF label. Both are checked before the store is read; failures are audited.
 * - Every cookie request reads the store (revocation, timeouts); lastUsed is written at most once
 *   per touch interval, which may expire an idle session up to that interval early, never late.
 */
@Injectable()
export class BrowserSessionService {
  private readonly csrfKey: Buffer;

  constructor(
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(BROWSER_SESSION_CODEC) private readonly codec: RefreshTokenCodec,
    @Inject(MAC_SECRET) secret: MacSecret,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly auth: SessionLifecycleService,
    private readonly revocations: RevocationView,
    private readonly audit: AuthAudit,
  ) {
    this.csrfKey = secret.derive('browser-csrf/v1');
  }

  /**
   * Login CSRF: only a page of ours may sign a browser in. A genuine cookie the browser still
   * presents is ended first; the new session always gets a new id and secret.
   */
  async login(email: string, password: string, client: ClientContext, req: RequestOrigin, presentedCookie?: string): Promise<BrowserLogin> {
    if (!this.sameOrigin(req)) this.refuse(req, 'login from a foreign origin');
    const user = await this.auth.verifyCredentials(email, password, client);
    if (presentedCookie !== undefined) await this.endPresented(presentedCookie);
    const now = this.clock.now();
    const sid = newSessionId(now);
    const issued = this.codec.create(user.id, sid);
    const absoluteExpiresAt = now + this.options.browser.absoluteTtl * 1000;
    await this.auth.startSession(
      {
        userId: user.id,
        sid,
        kind: 'browser',
        createdAt: now,
        authTime: Math.floor(now / 1000),
        absoluteExpiresAt,
        idleTtlMs: this.options.browser.idleTtl * 1000,
        deviceLabel: deviceLabel(client.userAgent),
        bindingHash: '',
        secretHash: issued.secretHash,
      },
      client,
    );
    this.audit.record('browser.login', { userId: user.id, sid }, client);
    return {
      cookieValue: issued.token,
      cookieMaxAge: this.options.browser.absoluteTtl,
      state: this.state({
        sub: user.id,
        sid,
        authTime: Math.floor(now / 1000),
        expiresAt: Math.floor(Math.min(absoluteExpiresAt, now + this.options.browser.idleTtl * 1000) / 1000),
        absoluteExpiresAt: Math.floor(absoluteExpiresAt / 1000),
        via: 'session',
        claims: NO_CLAIMS,
      }),
    };
  }

  /** Cookie -> principal, CSRF enforced on unsafe methods. Throws AuthError. */
  async authenticate(cookie: string, req: RequestOrigin): Promise<AuthPrincipal> {
    const parsed = this.parse(cookie);
    if (UNSAFE_METHODS.has(req.method)) this.assertCsrf(parsed, req);
    return this.principalOf(parsed);
  }

  /** What GET /auth/browser/session tells the page. */
  state(principal: AuthPrincipal): BrowserSessionState {
    return {
      sub: principal.sub,
      sid: principal.sid,
      csrfToken: this.csrfToken(principal.sub, principal.sid),
      idleExpiresAt: new Date(principal.expiresAt * 1000).toISOString(),
      absoluteExpiresAt: new Date((principal.absoluteExpiresAt ?? principal.expiresAt) * 1000).toISOString(),
    };
  }

  csrfToken(userId: string, sid: string): string {
    return createHmac('sha256', this.csrfKey).update(`${userId}.${sid}`).digest('base64url');
  }

  private parse(cookie: string): ParsedRefreshToken {
    const parsed = this.codec.parse(cookie);
    // A cookie we never issued is never adopted.
    if (!parsed?.genuine) throw new AuthError('SESSION_COOKIE_INVALID');
    return parsed;
  }

  private async principalOf(parsed: ParsedRefreshToken): Promise<AuthPrincipal> {
    const now = this.clock.now();
    const found = await this.sessions.lookup(parsed.userId, parsed.sid, now);
    if (!found) {
      throw new AuthError(this.revocations.check(parsed.sid, parsed.userId) === 'revoked' ? 'SESSION_REVOKED' : 'SESSION_EXPIRED');
    }
    const current = sameSecretHash(found.secretHash, hashSecret(parsed.secret));
    // A refresh token is never a session cookie (distinct tag key, and the kind is checked too).
    if (!current || found.session.kind !== 'browser') throw new AuthError('SESSION_COOKIE_INVALID');
    let lastUsedAt = found.session.lastUsedAt;
    if (now - lastUsedAt >= this.options.browser.touchInterval * 1000) {
      if (!(await this.sessions.touch(parsed.userId, parsed.sid, now, this.options.browser.idleTtl * 1000))) {
        throw new AuthError('SESSION_EXPIRED');
      }
      lastUsedAt = now;
    }
    const idleEnd = Math.min(found.session.absoluteExpiresAt, lastUsedAt + this.options.browser.idleTtl * 1000);
    return {
      sub: parsed.userId,
      sid: parsed.sid,
      authTime: found.session.authTime,
      expiresAt: Math.floor(idleEnd / 1000),
      absoluteExpiresAt: Math.floor(found.session.absoluteExpiresAt / 1000),
      via: 'session',
      claims: NO_CLAIMS,
    };
  }

  /**
   * The origin rule alone, for the other cookie-carried credential: the refresh cookie (refresh and
   * logout). It has no CSRF token to check; the cookie's SameSite and this rule keep other sites out.
   */
  assertSameOrigin(req: RequestOrigin): void {
    if (!this.sameOrigin(req)) this.refuse(req, 'foreign origin (refresh cookie)');
  }

  private assertCsrf(parsed: ParsedRefreshToken, req: RequestOrigin): void {
    if (!this.sameOrigin(req)) this.refuse(req, 'foreign origin', parsed);
    const expected = Buffer.from(this.csrfToken(parsed.userId, parsed.sid), 'utf8');
    const given = Buffer.from(req.csrfToken ?? '', 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      this.refuse(req, req.csrfToken === undefined ? 'token missing' : 'token mismatch', parsed);
    }
  }

  /**
   * Same-origin by `Origin` (one of AUTH_PUBLIC_ORIGIN, or the request's own when unset); when a
   * browser sends no Origin, `Sec-Fetch-Site` must say same-origin (or none: typed by the user).
   * A request with neither is refused: every browser sends one of them on unsafe methods.
   */
  private sameOrigin(req: RequestOrigin): boolean {
    const site = req.secFetchSite?.toLowerCase();
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    if (req.origin !== undefined) {
      const allowed = this.options.browser.publicOrigins.length > 0 ? this.options.browser.publicOrigins : [req.selfOrigin];
      return allowed.includes(req.origin.toLowerCase());
    }
    return site !== undefined;
  }

  private refuse(req: RequestOrigin, why: string, parsed?: ParsedRefreshToken): never {
    this.audit.record(
      'csrf.failure',
      {
        userId: parsed?.userId,
        sid: parsed?.sid,
        detail: `${req.method} ${why}; origin=${(req.origin ?? '-').slice(0, 100)} sec-fetch-site=${req.secFetchSite ?? '-'}`,
      },
      { requestId: req.requestId },
    );
    throw new AuthError('CSRF_TOKEN_INVALID');
  }

  /** Ends the session of a cookie we issued that is still current; anything else is ignored. */
  private async endPresented(cookie: string): Promise<void> {
    let principal: AuthPrincipal;
    try {
      principal = await this.principalOf(this.parse(cookie));
    } catch (e) {
      if (e instanceof AuthError && e.code === 'STORE_UNAVAILABLE') throw e;
      return;
    }
    await this.auth.logout({ principal });
  }
}
