/** Who is calling, as established by the guard. Ids and times only. */
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
  /** Browser sessions (`via: 'session'`): when the session ends whatever its activity (seconds). */
  readonly absoluteExpiresAt?: number;
}
