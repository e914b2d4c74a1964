import type { RecoveryPurpose } from './recovery-token.codec';

/**
 * The mailed-token port (email verification, password reset): at most one live token per user
 * and purpose, held as a hash. Issuing replaces (kills) the previous one; consuming is one atomic
 * step, so of several concurrent uses of one token exactly one succeeds. Expiry follows the
 * caller's clock (`now`); the adapters' own expiry only bounds storage. Both adapters run
 * test/contracts/recovery-token-store.contract.ts.
 */
export const RECOVERY_TOKEN_STORE = Symbol('RECOVERY_TOKEN_STORE');

export interface StoredRecoveryToken {
  /** recoveryTokenHash(...) of the token. */
  readonly hash: Buffer;
  /** Milliseconds. */
  readonly expiresAt: number;
}

export interface RecoveryTokenStore {
  /** Records the user's token for `purpose`, replacing any earlier one. */
  issue(purpose: RecoveryPurpose, userId: string, token: StoredRecoveryToken, now: number): Promise<void>;
  /** The live token at `now`, or null (none, expired, used or replaced). */
  find(purpose: RecoveryPurpose, userId: string, now: number): Promise<StoredRecoveryToken | null>;
  /**
   * Removes the token if it is still the live one with this hash at `now`. True for the one
   * caller that removed it; false for every other (used, replaced, expired, never issued).
   * `hash` is the one `find` returned, once the caller compared the presented token's hash with
   * it in constant time: the adapters' own comparison only settles races.
   */
  consume(purpose: RecoveryPurpose, userId: string, hash: Buffer, now: number): Promise<boolean>;
}
