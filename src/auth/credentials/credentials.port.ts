/**
 * The port through which auth asks "who is this?" without touching users' tables.
 * The users module provides the implementation under the same-named token.
 */
export const CREDENTIALS_PORT = Symbol('CREDENTIALS_PORT');

import type { UserClaims } from './user-claims.validator';

export interface VerifiedUser {
  /** Stable opaque user id (becomes the access token's `sub`). At most 64 ASCII characters. */
  readonly id: string;
  /** Whether the account's address is verified; absent counts as not verified. */
  readonly emailVerified?: boolean;
}

/** What the recovery flows (verification, password reset) need to know about an account. */
export interface AccountView {
  readonly id: string;
  /** Normalised (trimmed, lower-cased). */
  readonly email: string;
  readonly emailVerified: boolean;
  /**
   * Opaque, and different after every password change (e.g. derived from the password hash,
   * whose salt is new each time). A reset link is bound to it: changing the password kills it.
   */
  readonly passwordStamp: string;
}

export type RegisterResult =
  | { readonly ok: true; readonly user: { readonly id: string; readonly email: string } }
  | { readonly ok: false; readonly reason: 'EMAIL_TAKEN' }
  | { readonly ok: false; readonly reason: 'PASSWORD_REJECTED'; readonly detail: string };

export type ChangePasswordResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'INVALID_CREDENTIALS' }
  | { readonly ok: false; readonly reason: 'PASSWORD_REJECTED'; readonly detail: string };

export type NewPasswordResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'NOT_FOUND' }
  | { readonly ok: false; readonly reason: 'PASSWORD_REJECTED'; readonly detail: string };

export interface CredentialsPort {
  /**
   * Checks an email and password. Must take the same time whether or not the email exists
   * (run the hash against a dummy for unknown users) and verify exactly one hash per call.
   * Returns null for any failure; never says which part was wrong.
   */
  verify(email: string, password: string): Promise<VerifiedUser | null>;
  register(email: string, password: string): Promise<RegisterResult>;
  changePassword(userId: string, currentPassword: string, newPassword: string): Promise<ChangePasswordResult>;
  /** The account with this address (as typed: the port normalises it), or null. */
  accountByEmail(email: string): Promise<AccountView | null>;
  /** Null for an unknown id, including one that is not an id at all. */
  accountById(userId: string): Promise<AccountView | null>;
  /** Marks the address verified, if it is still the account's address. False: no such account and address. */
  markEmailVerified(userId: string, email: string): Promise<boolean>;
  /** Whether the password policy accepts `newPassword` for this account, without changing anything. */
  checkNewPassword(userId: string, newPassword: string): Promise<NewPasswordResult>;
  /** Sets a new password (the policy applies) without the current one: the caller proved the reset. */
  resetPassword(userId: string, newPassword: string): Promise<NewPasswordResult>;
  /**
   * Optional: extra claims for the user's access tokens (e.g. `{ roles: ['admin'], tenant: 'acme' }`),
   * asked at login and at every refresh, so a change reaches the user's tokens at their next
   * refresh (revoke their sessions when it must apply at once). At most 8 lower-case names,
   * values of 1-64 characters `[A-Za-z0-9._:@/+-]` or lists of up to 16 of them; JWT and auth
   * claim names (sub, sid, exp, ...) are refused: see user-claims.validator.ts.
   */
  claimsFor?(userId: string): Promise<UserClaims | null>;
}
