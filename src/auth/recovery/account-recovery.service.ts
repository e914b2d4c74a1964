import { Inject, Injectable } from '@nestjs/common';
import { AttemptKeyer } from '../abuse/attempt-keys';
import { LOGIN_ATTEMPT_STORE, type LoginAttemptStore } from '../abuse/login-attempt-store.port';
import { RATE_LIMIT_STORE, type RateLimitStore } from '../abuse/rate-limit-store.port';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { CLOCK, type Clock } from '../common/clock.port';
import { CREDENTIALS_PORT, type AccountView, type CredentialsPort } from '../credentials/credentials.port';
import { AuthError } from '../errors/auth-error.model';
import { MailOutbox, type PreparedMail } from '../mail/mail-outbox.service';
import { renderMail, type MailKind } from '../mail/mail.templates';
import { AuthAudit } from '../observability/auth-audit.service';
import { ATTEMPT_KEYER, SessionLifecycleService, type ClientContext } from '../sessions/session-lifecycle.service';
import { createRecoveryToken, parseRecoveryToken, recoveryTokenHash, sameRecoveryHash, type RecoveryPurpose } from './recovery-token.codec';
import { RECOVERY_TOKEN_STORE, type RecoveryTokenStore, type StoredRecoveryToken } from './recovery-token-store.port';

/** The sign-in page's views that take a mailed token (see sign-in-page.controller.ts). */
export const VERIFY_EMAIL_PATH = '/signin/verify';
export const RESET_PASSWORD_PATH = '/signin/reset';

const invalidToken = (): AuthError => new AuthError('RECOVERY_TOKEN_INVALID');

/**
 * Email verification and password reset: tokens mailed as links, redeemed once.
 *
 * - Requests that name an address (forgot, resend) do the same work whatever the address: the
 *   per-account limit (keyed by a MAC of the address, whether or not an account has it), then a
 *   job handed to the outbox. The account lookup, the token and the mail happen in that job,
 *   after the answer: the answer cannot depend on them, in body or in time.
 * - A token is 256 random bits, stored only as a hash bound to what it vouches for (the address;
 *   the password stamp for a reset), compared in constant time, consumed atomically. A newer
 *   token replaces it; a password change kills a reset token (its stamp changes).
 * - Every bad, expired, replaced or used token gets the same RECOVERY_TOKEN_INVALID.
 */
@Injectable()
export class AccountRecoveryService {
  constructor(
    @Inject(CREDENTIALS_PORT) private readonly credentials: CredentialsPort,
    @Inject(RECOVERY_TOKEN_STORE) private readonly tokens: RecoveryTokenStore,
    @Inject(RATE_LIMIT_STORE) private readonly limits: RateLimitStore,
    @Inject(LOGIN_ATTEMPT_STORE) private readonly attempts: LoginAttemptStore,
    @Inject(ATTEMPT_KEYER) private readonly keyer: AttemptKeyer,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly outbox: MailOutbox,
    private readonly sessions: SessionLifecycleService,
    private readonly audit: AuthAudit,
  ) {}

  /** After a registration: the verification link goes out in the background. */
  sendVerification(user: { readonly id: string; readonly email: string }, requestOrigin: string, client: ClientContext = {}): void {
    const base = this.linkBase(requestOrigin);
    this.outbox.enqueue('email-verification', () => this.verificationMail(user.id, user.email, base), client);
  }

  /** A new verification link, for an account with this address that is not verified yet; else nothing. */
  async resendVerification(email: string, requestOrigin: string, client: ClientContext = {}): Promise<void> {
    await this.limitPerAccount('email-verification', email, client);
    const base = this.linkBase(requestOrigin);
    this.outbox.enqueue(
      'email-verification',
      async () => {
        const account = await this.credentials.accountByEmail(email);
        return account && !account.emailVerified ? this.verificationMail(account.id, account.email, base) : null;
      },
      client,
    );
  }

  async verifyEmail(token: string, client: ClientContext = {}): Promise<void> {
    const { account, stored, now } = await this.redeemable('verify-email', token);
    if (!(await this.tokens.consume('verify-email', account.id, stored.hash, now))) throw invalidToken();
    if (!(await this.credentials.markEmailVerified(account.id, account.email))) throw invalidToken();
    this.audit.record('email.verified', { userId: account.id }, client);
  }

  /** A reset link for the account with this address, if there is one. */
  async forgotPassword(email: string, requestOrigin: string, client: ClientContext = {}): Promise<void> {
    await this.limitPerAccount('password-reset', email, client);
    const base = this.linkBase(requestOrigin);
    this.outbox.enqueue(
      'password-reset',
      async () => {
        const account = await this.credentials.accountByEmail(email);
        this.audit.record('password.reset_requested', account ? { userId: account.id } : { reason: 'no such account' }, client);
        return account ? this.resetMail(account, base) : null;
      },
      client,
    );
  }

  /**
   * Sets the new password (the policy applies: a refused one leaves the link usable), then ends
   * every session of the user, API and browser, with their access tokens, and clears the
   * account's lockout. Following the link proves the address too.
   */
  async resetPassword(token: string, newPassword: string, client: ClientContext = {}): Promise<void> {
    const { account, stored, now } = await this.redeemable('reset-password', token);
    const checked = await this.credentials.checkNewPassword(account.id, newPassword);
    if (!checked.ok) throw checked.reason === 'PASSWORD_REJECTED' ? new AuthError('PASSWORD_REJECTED', { detail: checked.detail }) : invalidToken();
    if (!(await this.tokens.consume('reset-password', account.id, stored.hash, now))) throw invalidToken();
    const result = await this.credentials.resetPassword(account.id, newPassword);
    if (!result.ok) throw result.reason === 'PASSWORD_REJECTED' ? new AuthError('PASSWORD_REJECTED', { detail: result.detail }) : invalidToken();
    await this.sessions.endAllSessions(account.id);
    await this.attempts.succeeded(this.keyer.keys(account.email, client.ip), this.clock.now(), this.options.lockout);
    this.audit.record('password.reset', { userId: account.id }, client);
    if (!account.emailVerified && (await this.credentials.markEmailVerified(account.id, account.email))) {
      this.audit.record('email.verified', { userId: account.id, reason: 'password reset link' }, client);
    }
  }

  /** The account a token names and its live stored token, when the token is that one. */
  private async redeemable(purpose: RecoveryPurpose, token: string): Promise<{ account: AccountView; stored: StoredRecoveryToken; now: number }> {
    const parsed = parseRecoveryToken(token);
    if (!parsed) throw invalidToken();
    const account = await this.credentials.accountById(parsed.userId);
    if (!account) throw invalidToken();
    const now = this.clock.now();
    const stored = await this.tokens.find(purpose, account.id, now);
    if (!stored || !sameRecoveryHash(stored.hash, recoveryTokenHash(purpose, bindingOf(purpose, account), parsed.secret))) throw invalidToken();
    return { account, stored, now };
  }

  private async verificationMail(userId: string, email: string, base: string): Promise<PreparedMail> {
    const ttl = this.options.recovery.verifyTokenTtl;
    const token = await this.issue('verify-email', userId, email, ttl);
    return { userId, message: renderMail('email-verification', email, `${base}${VERIFY_EMAIL_PATH}?token=${token}`, ttl) };
  }

  private async resetMail(account: AccountView, base: string): Promise<PreparedMail> {
    const ttl = this.options.recovery.resetTokenTtl;
    const token = await this.issue('reset-password', account.id, bindingOf('reset-password', account), ttl);
    return { userId: account.id, message: renderMail('password-reset', account.email, `${base}${RESET_PASSWORD_PATH}?token=${token}`, ttl) };
  }

  private async issue(purpose: RecoveryPurpose, userId: string, binding: string, ttlSeconds: number): Promise<string> {
    const { token, secret } = createRecoveryToken(userId);
    const now = this.clock.now();
    await this.tokens.issue(purpose, userId, { hash: recoveryTokenHash(purpose, binding, secret), expiresAt: now + ttlSeconds * 1000 }, now);
    return token;
  }

  /**
   * At most `mailLimit.max` requests of a kind per account and window, whoever sends them (the
   * per-address limit is the route's throttler): nobody can mail-bomb an inbox. Counted for any
   * address, known or not, so a 429 says nothing about an account.
   */
  private async limitPerAccount(kind: MailKind, email: string, client: ClientContext): Promise<void> {
    const { windowSeconds, max } = this.options.recovery.mailLimit;
    const windowMs = windowSeconds * 1000;
    const hit = await this.limits.increment(this.keyer.keys(email, undefined).account, windowMs, max, windowMs, `recovery-${kind}`);
    if (!hit.isBlocked) return;
    this.audit.record('rate_limited', { route: kind, reason: 'per account' }, client);
    throw new AuthError('RATE_LIMITED', { retryAfter: Math.max(1, hit.timeToBlockExpire) });
  }

  /** The first public origin; without one (development only: production requires it) the request's own. */
  private linkBase(requestOrigin: string): string {
    return this.options.browser.publicOrigins[0] ?? requestOrigin;
  }
}

function bindingOf(purpose: RecoveryPurpose, account: AccountView): string {
  return purpose === 'verify-email' ? account.email : account.passwordStamp;
}
