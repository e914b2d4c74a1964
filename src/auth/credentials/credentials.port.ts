/**
 * The port through which auth asks "who is this?" without touching users' tables.
 * The users module provides the implementation under the same-named token.
 */
export const CREDENTIALS_PORT = Symbol('CREDENTIALS_PORT');

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
}
