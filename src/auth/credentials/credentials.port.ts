/**
 * The port through which auth asks "who is this?" without touching users' tables.
 * The users module provides the implementation under the same-named token.
 */
export const CREDENTIALS_PORT = Symbol('CREDENTIALS_PORT');

import type { UserClaims } from './user-claims.validator';

export interface VerifiedUser {
  /** Stable opaque user id (becomes the access token's `sub`). At most 64 ASCII characters. */
  readonly id: string;
}

export type RegisterResult =
  | { readonly ok: true; readonly user: { readonly id: string; readonly email: string } }
  | { readonly ok: false; readonly reason: 'EMAIL_TAKEN' }
  | { readonly ok: false; readonly reason: 'PASSWORD_REJECTED'; readonly detail: string };

export type ChangePasswordResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'INVALID_CREDENTIALS' }
  | { readonly ok: false; readonly reason: 'PASSWORD_REJECTED'; readonly detail: string };

export interface CredentialsPort {
  /**
   * Checks an email and password. Must take the same time whether or not the email exists
   * (run the hash against a dummy for unknown users) and verify exactly one hash per call.
   * Returns null for any failure; never says which part was wrong.
   */
  verify(email: string, password: string): Promise<VerifiedUser | null>;
  register(email: string, password: string): Promise<RegisterResult>;
  /**
   * The account's email, as a login would give it, or null for an unknown id. Auth keys the login
   * lockout by email: a wrong current password at a password change counts on the same counters.
   */
  emailOf(userId: string): Promise<string | null>;
  changePassword(userId: string, currentPassword: string, newPassword: string): Promise<ChangePasswordResult>;
  /**
   * Optional: extra claims for the user's access tokens (e.g. `{ roles: ['admin'], tenant: 'acme' }`),
   * asked at login and at every refresh, so a change reaches the user's tokens at their next
   * refresh (revoke their sessions when it must apply at once). At most 8 lower-case names,
   * values of 1-64 characters `[A-Za-z0-9._:@/+-]` or lists of up to 16 of them; JWT and auth
   * claim names (sub, sid, exp, ...) are refused: see user-claims.validator.ts.
   */
  claimsFor?(userId: string): Promise<UserClaims | null>;
}
