import type { UserClaims } from '../credentials/user-claims.validator';

/** Who is calling, as established by the guard. Ids, times and the host's own claims only. */
export interface AuthPrincipal {
  /** The user id. */
  readonly sub: string;
  /** The session id. */
  readonly sid: string;
  /** When the user last proved their credentials (seconds since epoch). */
  readonly authTime: number;
  /** When this credential stops being accepted (seconds since epoch). */
  readonly expiresAt: number;
  readonly via: 'bearer' | 'session';
  /**
   * The host's extra claims (CredentialsPort.claimsFor: roles, tenant...) as the access token
   * carries them: as of its login or last refresh. Empty for browser sessions.
   */
  readonly claims: UserClaims;
  /** Browser sessions (`via: 'session'`): when the session ends whatever its activity (seconds). */
  readonly absoluteExpiresAt?: number;
}
