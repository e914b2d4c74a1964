/**
 * The failed-login counter port (progressive lockout). Two counters per attempt, both keyed by
 * opaque hashes the service computes (never an email or an address):
 *   - the account (every source together), and
 *   - the account + source (client address, /64 for IPv6).
 * One atomic operation decides whether an attempt may be made AND counts it as a failure up
 * front, so N concurrent guesses cannot slip past a limit between a read and a write; a success
 * takes the count back (resets). Both adapters run test/contracts/login-attempt-store.contract.ts.
 */
export const LOGIN_ATTEMPT_STORE = Symbol('LOGIN_ATTEMPT_STORE');

export interface LockoutPolicy {
  /** Failures from one source on one account before delays start. */
  readonly sourceFree: number;
  /** First delay for a source, ms; doubles with each further failure. */
  readonly sourceBaseDelayMs: number;
  /** Failures on an account (all sources) before account-wide delays start. */
  readonly accountFree: number;
  readonly accountBaseDelayMs: number;
  /** Upper bound of any delay, ms. */
  readonly maxDelayMs: number;
  /** Consecutive failures on an account after which no attempt is made at all (NIST 800-63B: 100). */
  readonly accountHardCap: number;
  /** A counter is forgotten this long after its last counted failure, ms. */
  readonly decayMs: number;
  /** After a success, that source skips the account-wide delay (not the hard cap) for this long, ms. */
  readonly trustedSourceMs: number;
}

export interface AttemptKeys {
  readonly account: string;
  readonly source: string;
}

export type AttemptDecision =
  | { readonly allowed: true; readonly accountFailures: number; readonly sourceFailures: number }
  | { readonly allowed: false; readonly reason: 'source' | 'account' | 'cap'; readonly retryAt: number };

export interface LoginAttemptStore {
  /** Atomically: refuse if a delay or the cap is in force, else count this attempt as a failure. */
  begin(keys: AttemptKeys, now: number, policy: LockoutPolicy): Promise<AttemptDecision>;
  /** The attempt succeeded: both counters reset; the source becomes trusted for this account. */
  succeeded(keys: AttemptKeys, now: number, policy: LockoutPolicy): Promise<void>;
}

/** The wait after the last failure: 0 below `free` failures, then baseMs doubling per failure, capped at maxMs. */
export function lockoutDelay(failures: number, free: number, baseMs: number, maxMs: number): number {
  if (failures < free) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - free, 30));
}

/** The decision for counters read at `now` (shared by both adapters; Redis repeats it in Lua). */
export function decide(
  source: { n: number; at: number; trustedUntil: number },
  account: { n: number; at: number },
  now: number,
  p: LockoutPolicy,
): { reason: 'source' | 'account' | 'cap'; retryAt: number } | null {
  if (account.n >= p.accountHardCap) return { reason: 'cap', retryAt: account.at + p.decayMs };
  const sourceUntil = source.at + lockoutDelay(source.n, p.sourceFree, p.sourceBaseDelayMs, p.maxDelayMs);
  if (source.n >= p.sourceFree && now < sourceUntil) return { reason: 'source', retryAt: sourceUntil };
  const trusted = now < source.trustedUntil;
  const accountUntil = account.at + lockoutDelay(account.n, p.accountFree, p.accountBaseDelayMs, p.maxDelayMs);
  if (!trusted && account.n >= p.accountFree && now < accountUntil) return { reason: 'account', retryAt: accountUntil };
  return null;
}
