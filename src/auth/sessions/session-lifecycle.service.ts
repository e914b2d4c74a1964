import { Inject, Injectable } from '@nestjs/common';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import { AuthAudit } from '../observability/auth-audit.service';
import type { AuthPrincipal } from '../access/auth-principal.model';
import { Clock, CLOCK } from '../common/clock.port';
import { CREDENTIALS_PORT, CredentialsPort, VerifiedUser } from '../credentials/credentials.port';
import { NO_CLAIMS, validateClaims, type UserClaims } from '../credentials/user-claims.validator';
import { AuthError } from '../errors/auth-error.model';
import { RevocationView } from '../revocation/revocation-view.service';
import { REVOCATION_STORE, RevocationEntry, RevocationStore } from '../revocation/revocation-store.port';
import { deviceLabel } from './device-label.parser';
import { NewSession, RotateCommand, SESSION_STORE, SessionStore, SessionView } from './session-store.port';
import { AccessTokenService, CLOCK_TOLERANCE_SECONDS } from '../tokens/access-token.service';
import { RefreshTokenCodec, hashSecret, type ParsedRefreshToken } from '../tokens/refresh-token.codec';
import { isSessionId, newSessionId } from '../tokens/session-id.codec';
import { AttemptKeyer } from '../abuse/attempt-keys';
import { FailedAttemptLimiter } from '../abuse/failed-attempt.limiter';
import { LOGIN_ATTEMPT_STORE, type LoginAttemptStore } from '../abuse/login-attempt-store.port';
import { AuthMetrics } from '../observability/auth-metrics.service';
import { DeviceBinder } from './device-binding';

/** What the client tells us about itself; plain data, no HTTP types. */
export interface ClientContext {
  readonly userAgent?: string;
  /** The client address as the transport established it (behind trusted proxies only). */
  readonly ip?: string;
  /** The request's id, for the audit trail (passed explicitly, not through AsyncLocalStorage: see request-id.helper). */
  readonly requestId?: string;
}

export interface IssuedTokens {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly refreshToken: string;
  /** Seconds the refresh token may be kept (idle timeout, capped by the session's absolute end). */
  readonly refreshExpiresIn: number;
}

export interface SessionSummary {
  readonly id: string;
  readonly kind: 'api' | 'browser';
  readonly createdAt: string;
  readonly lastUsedAt: string;
  readonly deviceLabel: string;
  readonly current: boolean;
}

export const REFRESH_CODEC = Symbol('REFRESH_CODEC');
export const ATTEMPT_KEYER = Symbol('ATTEMPT_KEYER');
export const DEVICE_BINDER = Symbol('DEVICE_BINDER');

/**
 * Orchestrates the session lifecycle. Every token is issued only after the store recorded the
 * state it depends on; a store failure surfaces as STORE_UNAVAILABLE before anything is issued.
 */
@Injectable()
export class SessionLifecycleService {
  constructor(
    @Inject(CREDENTIALS_PORT) private readonly credentials: CredentialsPort,
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(REVOCATION_STORE) private readonly revocationStore: RevocationStore,
    @Inject(REFRESH_CODEC) private readonly codec: RefreshTokenCodec,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly accessTokens: AccessTokenService,
    private readonly revocationView: RevocationView,
    private readonly audit: AuthAudit,
    private readonly metrics: AuthMetrics,
    @Inject(LOGIN_ATTEMPT_STORE) private readonly attempts: LoginAttemptStore,
    @Inject(ATTEMPT_KEYER) private readonly keyer: AttemptKeyer,
    @Inject(DEVICE_BINDER) private readonly binder: DeviceBinder,
    private readonly failures: FailedAttemptLimiter,
  ) {}

  async register(email: string, password: string, client: ClientContext = {}): Promise<{ id: string; email: string }> {
    const result = await this.credentials.register(email, password);
    if (result.ok) {
      this.audit.record('register', { userId: result.user.id }, client);
      return result.user;
    }
    if (result.reason === 'EMAIL_TAKEN') throw new AuthError('EMAIL_TAKEN');
    throw new AuthError('PASSWORD_REJECTED', { detail: result.detail });
  }

  /**
   * The one credential check every login goes through (API and browser profiles), and the current
   * password at a password change (`changing`: the session asking, audited as
   * password.change_failed): progressive lockout around exactly one password verification. The
   * attempt is admitted (and counted as a failure up front) atomically by the attempt store; a
   * refused attempt still runs the verification and answers exactly like a wrong password, so
   * neither timing nor response tells a locked account from an unknown one or a wrong password. A
   * success resets the counters.
   */
  async verifyCredentials(email: string, password: string, client: ClientContext, changing?: AuthPrincipal): Promise<VerifiedUser> {
    await this.failures.admit(client);
    const keys = this.keyer.keys(email, client.ip);
    const decision = await this.attempts.begin(keys, this.clock.now(), this.options.lockout);
    const user = await this.credentials.verify(email, password);
    if (!decision.allowed || !user || (changing && user.id !== changing.sub)) await this.failures.failed(client);
    if (!decision.allowed) {
      const retryAfterSeconds = Math.max(0, Math.ceil((decision.retryAt - this.clock.now()) / 1000));
      if (changing) {
        this.audit.record('password.change_failed', { userId: changing.sub, sid: changing.sid, reason: `locked (${decision.reason})`, retryAfterSeconds }, client);
      } else {
        this.audit.record('login.locked', { userId: user?.id, reason: decision.reason, retryAfterSeconds }, client);
      }
      throw new AuthError('INVALID_CREDENTIALS');
    }
    if (!user || (changing && user.id !== changing.sub)) {
      const counts = { accountFailures: decision.accountFailures, sourceFailures: decision.sourceFailures };
      if (changing) {
        this.audit.record('password.change_failed', { userId: changing.sub, sid: changing.sid, reason: 'wrong current password', ...counts }, client);
      } else {
        this.audit.record('login.failure', counts, client);
      }
      throw new AuthError('INVALID_CREDENTIALS');
    }
    await this.attempts.succeeded(keys, this.clock.now(), this.options.lockout);
    // Only now: the answer says the address is unverified to whoever knows the password, no one else.
    if (this.options.recovery.requireVerifiedEmail && user.emailVerified !== true) {
      this.audit.record('login.failure', { userId: user.id, reason: 'email not verified' }, client);
      throw new AuthError('EMAIL_NOT_VERIFIED');
    }
    return user;
  }

  async login(email: string, password: string, client: ClientContext): Promise<IssuedTokens> {
    const done = this.metrics.timer(this.metrics.loginDuration);
    try {
      const tokens = await this.loginOnce(email, password, client);
      done('success');
      return tokens;
    } catch (e) {
      done(e instanceof AuthError && e.code === 'INVALID_CREDENTIALS' ? 'failure' : 'error');
      throw e;
    }
  }

  private async loginOnce(email: string, password: string, client: ClientContext): Promise<IssuedTokens> {
    const user = await this.verifyCredentials(email, password, client);
    const now = this.clock.now();
    const sid = newSessionId(now);
    const authTime = Math.floor(now / 1000);
    const refresh = this.codec.create(user.id, sid);
    const absoluteExpiresAt = now + this.options.sessionAbsoluteTtl * 1000;
    await this.startSession(
      {
        userId: user.id,
        sid,
        kind: 'api',
        createdAt: now,
        authTime,
        absoluteExpiresAt,
        idleTtlMs: this.options.sessionIdleTtl * 1000,
        deviceLabel: deviceLabel(client.userAgent),
        bindingHash: this.binder.hash(client),
        secretHash: refresh.secretHash,
      },
      client,
    );
    const claims = await this.claimsOf(user.id);
    this.audit.record('login.success', { userId: user.id, sid }, client);
    return this.tokensFor(user.id, sid, authTime, refresh.token, absoluteExpiresAt, now, claims);
  }

  async refresh(refreshToken: string, client: ClientContext = {}): Promise<IssuedTokens> {
    const done = this.metrics.timer(this.metrics.refreshDuration);
    try {
      const parsed = this.codec.parse(refreshToken);
      if (!parsed) throw new AuthError('REFRESH_TOKEN_INVALID');
      // The host's claims (a port with claimsFor) are asked alongside the store round trip; both
      // awaited, so that a failing claimsFor is never an unhandled rejection.
      const claims = parsed.genuine && this.credentials.claimsFor ? this.claimsOf(parsed.userId) : undefined;
      const rotating = this.rotateWith(parsed, client, claims);
      const tokens = claims ? (await Promise.all([rotating, claims]))[0] : await rotating;
      done('success');
      return tokens;
    } catch (e) {
      done(e instanceof AuthError ? e.code.toLowerCase() : 'error');
      throw e;
    }
  }

  /** The user's validated extra claims, or none when the port has no claimsFor. */
  private async claimsOf(userId: string): Promise<UserClaims> {
    return this.credentials.claimsFor ? validateClaims(await this.credentials.claimsFor(userId)) : NO_CLAIMS;
  }

  /** `claims`: the host's claims fetched alongside the round trip, if any; the token issued carries them. */
  private async rotateWith(parsed: ParsedRefreshToken, client: ClientContext, claims: Promise<UserClaims> | undefined): Promise<IssuedTokens> {
    const now = this.clock.now();
    const next = this.codec.create(parsed.userId, parsed.sid);
    const result = await this.sessions.rotate(this.rotateCommand(parsed, next, now, this.binder.mode === 'off' ? null : this.binder.hash(client)));
    switch (result.kind) {
      case 'rotated': {
        this.audit.record('refresh', { userId: parsed.userId, sid: parsed.sid }, client);
        return this.tokensFor(parsed.userId, parsed.sid, result.session.authTime, next.token, result.session.absoluteExpiresAt, now, await (claims ?? NO_CLAIMS));
      }
      case 'replayed': {
        // A lost response, a retry or a second tab: hand back the successor the first request got.
        const successor = this.codec.openSuccessor(parsed, result.sealedSuccessor);
        if (!successor) throw new AuthError('REFRESH_TOKEN_INVALID');
        return this.tokensFor(parsed.userId, parsed.sid, result.session.authTime, successor, result.session.absoluteExpiresAt, now, await (claims ?? NO_CLAIMS));
      }
      case 'reused':
        return this.reuseDetected(parsed, result.revokedAll, now, client);
      case 'binding_mismatch':
        if (result.revoked) {
          await this.publishRevocation({ kind: 'session', sid: parsed.sid, expiresAt: this.revocationExpiry(now) }, now);
        }
        this.audit.record(
          'refresh.binding_mismatch',
          { userId: parsed.userId, sid: parsed.sid, reason: result.revoked ? 'session revoked' : 'refresh refused' },
          client,
        );
        throw new AuthError('DEVICE_MISMATCH');
      case 'expired':
        this.audit.record('session.expired', { userId: parsed.userId, sid: parsed.sid }, client);
        throw new AuthError('SESSION_EXPIRED');
      default:
        throw new AuthError('REFRESH_TOKEN_INVALID');
    }
  }

  private rotateCommand(parsed: ParsedRefreshToken, next: { secret: Buffer; secretHash: Buffer }, now: number, bindingHash: string | null): RotateCommand {
    return {
      userId: parsed.userId,
      sid: parsed.sid,
      kind: 'api',
      presentedHash: hashSecret(parsed.secret),
      genuine: parsed.genuine,
      nextHash: next.secretHash,
      sealedSuccessor: this.codec.sealSuccessor(parsed.secret, next),
      now,
      idleTtlMs: this.options.sessionIdleTtl * 1000,
      revokeAllOnReuse: this.options.compromiseAction === 'REVOKE_ALL',
      cutoffTtlMs: this.options.sessionAbsoluteTtl * 1000,
      bindingHash,
      revokeOnBindingMismatch: this.options.bindingMismatchAction === 'revoke',
    };
  }

  /** A spent refresh token came back: the store has revoked the session (or all); make it felt everywhere. */
  private async reuseDetected(parsed: ParsedRefreshToken, revokedAll: boolean, now: number, client: ClientContext): Promise<never> {
    await this.publishRevocation(
      revokedAll
        ? { kind: 'user', userId: parsed.userId, cutoff: now, expiresAt: this.revocationExpiry(now) }
        : { kind: 'session', sid: parsed.sid, expiresAt: this.revocationExpiry(now) },
      now,
    );
    this.audit.record('refresh.reuse_detected', { userId: parsed.userId, sid: parsed.sid, reason: revokedAll ? 'all sessions revoked' : 'session revoked' }, client);
    throw new AuthError('REFRESH_TOKEN_REUSED');
  }

  /**
   * Ends one session, identified by the caller's access token or, when that is absent or
   * expired, by a refresh token we issued. Idempotent: ending an ended session succeeds. A
   * refresh token ends its session only if a refresh would accept it (the current one, or its
   * predecessor while the successor is unused); an older one is theft, as at refresh.
   */
  async logout(by: { principal?: AuthPrincipal; refreshToken?: string }, client: ClientContext = {}): Promise<void> {
    let userId: string;
    let sid: string;
    if (by.principal) {
      ({ sub: userId, sid } = by.principal);
    } else if (by.refreshToken !== undefined) {
      const parsed = this.codec.parse(by.refreshToken);
      if (!parsed?.genuine) throw new AuthError('REFRESH_TOKEN_INVALID');
      // The refresh's own atomic classification (the session ends just after, so the rotation it may write is moot).
      const now = this.clock.now();
      const result = await this.sessions.rotate(this.rotateCommand(parsed, this.codec.create(parsed.userId, parsed.sid), now, null));
      if (result.kind === 'reused') await this.reuseDetected(parsed, result.revokedAll, now, client);
      ({ userId, sid } = parsed);
    } else {
      throw new AuthError('ACCESS_TOKEN_MISSING');
    }
    await this.endSession(userId, sid);
    this.audit.record('logout', { userId, sid }, client);
  }

  async logoutAll(principal: AuthPrincipal, client: ClientContext = {}): Promise<void> {
    await this.endAllSessions(principal.sub);
    this.audit.record('logout_all', { userId: principal.sub, sid: principal.sid }, client);
  }

  /** Ends every session of the user, API and browser, and their outstanding access tokens. */
  async endAllSessions(userId: string): Promise<void> {
    const now = this.clock.now();
    // The cut-off must outlive the longest session of either kind.
    await this.sessions.revokeAll(userId, now, Math.max(this.options.sessionAbsoluteTtl, this.options.browser.absoluteTtl) * 1000);
    await this.publishRevocation({ kind: 'user', userId, cutoff: now, expiresAt: this.revocationExpiry(now) }, now);
  }

  /**
   * Requires the current password, checked like a login's (verifyCredentials: the account's
   * lockout counts wrong guesses here too, and a locked account is refused even the right
   * password); on success every other session of the user is revoked (each one, with its access
   * tokens) and the caller's own session lives on. The port's changePassword checks the current
   * password once more (one hash more, on the success path only).
   */
  async changePassword(principal: AuthPrincipal, currentPassword: string, newPassword: string, client: ClientContext = {}): Promise<void> {
    const email = (await this.credentials.accountById(principal.sub))?.email ?? null;
    if (email === null) throw new AuthError('INVALID_CREDENTIALS');
    await this.verifyCredentials(email, currentPassword, client, principal);
    const result = await this.credentials.changePassword(principal.sub, currentPassword, newPassword);
    if (!result.ok) {
      if (result.reason === 'PASSWORD_REJECTED') throw new AuthError('PASSWORD_REJECTED', { detail: result.detail });
      throw new AuthError('INVALID_CREDENTIALS');
    }
    const now = this.clock.now();
    const others = (await this.sessions.listByUser(principal.sub, now)).filter((s) => s.sid !== principal.sid);
    for (const s of others) await this.endSession(principal.sub, s.sid);
    this.audit.record('password.changed', { userId: principal.sub, sid: principal.sid, revokedSessions: others.length }, client);
  }

  async listSessions(principal: AuthPrincipal): Promise<SessionSummary[]> {
    const list = await this.sessions.listByUser(principal.sub, this.clock.now());
    return list.map((s) => summarize(s, principal.sid));
  }

  /** Revokes one of the caller's own sessions; someone else's is indistinguishable from unknown. */
  async revokeSession(principal: AuthPrincipal, sid: string, client: ClientContext = {}): Promise<void> {
    if (!isSessionId(sid)) throw new AuthError('SESSION_NOT_FOUND');
    const live = await this.sessions.get(principal.sub, sid, this.clock.now());
    if (!live) throw new AuthError('SESSION_NOT_FOUND');
    await this.endSession(principal.sub, sid);
    this.audit.record('session.revoked', { userId: principal.sub, sid }, client);
  }

  /** An operator's look at a user's live sessions (the admin CLI), audited with `operator`. */
  async sessionsForOperator(userId: string, operator: string): Promise<SessionSummary[]> {
    const list = await this.sessions.listByUser(userId, this.clock.now());
    this.audit.record('sessions.listed', { userId, operator, count: list.length });
    return list.map((s) => summarize(s, ''));
  }

  /**
   * An operator ends one session of a user, or all of them (`sid` null), with their access tokens,
   * as the user's own logout / logout-all would; audited with `operator`. False: no such live session.
   */
  async revokeForOperator(userId: string, sid: string | null, operator: string): Promise<boolean> {
    if (sid === null) {
      await this.endAllSessions(userId);
      this.audit.record('logout_all', { userId, operator, reason: 'by operator' });
      return true;
    }
    if (!isSessionId(sid) || !(await this.sessions.get(userId, sid, this.clock.now()))) return false;
    await this.endSession(userId, sid);
    this.audit.record('session.revoked', { userId, sid, operator, reason: 'by operator' });
    return true;
  }

  /**
   * An operator lifts the login lockout of an account (the account-wide counter, as a successful
   * sign-in would; a single source's own delay runs out by itself), audited with `operator`.
   */
  async unlockForOperator(email: string, userId: string, operator: string): Promise<void> {
    await this.attempts.succeeded(this.keyer.keys(email, undefined), this.clock.now(), this.options.lockout);
    this.audit.record('account.unlocked', { userId, operator });
  }

  /**
   * Records a new session (API or browser). When the user was at MAX_SESSIONS_PER_USER, the store
   * ended their least recently used session: its access tokens are revoked like any other's.
   */
  async startSession(session: NewSession, client: ClientContext = {}): Promise<void> {
    const { evicted } = await this.sessions.create(session);
    if (evicted === null) return;
    const now = this.clock.now();
    await this.publishRevocation({ kind: 'session', sid: evicted, expiresAt: this.revocationExpiry(now) }, now);
    this.audit.record('session.revoked', { userId: session.userId, sid: evicted, reason: 'session limit reached' }, client);
  }

  private async endSession(userId: string, sid: string): Promise<void> {
    const now = this.clock.now();
    await this.sessions.revoke(userId, sid);
    await this.publishRevocation({ kind: 'session', sid, expiresAt: this.revocationExpiry(now) }, now);
  }

  /** Apply locally first (this instance is consistent at once), then record and broadcast. */
  private async publishRevocation(entry: RevocationEntry, now: number): Promise<void> {
    this.revocationView.apply(entry);
    await this.revocationStore.add(entry, now);
  }

  /** A revocation matters only while an access token issued before it can still be accepted. */
  private revocationExpiry(now: number): number {
    return now + (this.options.accessTokenTtl + CLOCK_TOLERANCE_SECONDS + 5) * 1000;
  }

  private tokensFor(
    userId: string,
    sid: string,
    authTime: number,
    refreshToken: string,
    absoluteExpiresAt: number,
    now: number,
    claims: UserClaims,
  ): IssuedTokens {
    const access = this.accessTokens.issue({ sub: userId, sid, authTime, claims });
    const refreshExpiresIn = Math.max(0, Math.min(this.options.sessionIdleTtl, Math.floor((absoluteExpiresAt - now) / 1000)));
    return { accessToken: access.token, expiresIn: access.expiresIn, refreshToken, refreshExpiresIn };
  }
}

function summarize(s: SessionView, currentSid: string): SessionSummary {
  return {
    id: s.sid,
    kind: s.kind,
    createdAt: new Date(s.createdAt).toISOString(),
    lastUsedAt: new Date(s.lastUsedAt).toISOString(),
    deviceLabel: s.deviceLabel,
    current: s.sid === currentSid,
  };
}
