import { timingSafeEqual } from 'node:crypto';

/**
 * The session store port. One session = one login on one device. Every transition that decides
 * whether a token is issued (create, rotate, revoke, reuse-then-revoke) is ONE atomic operation
 * of the adapter: there is no read-then-write window between instances.
 */
export const SESSION_STORE = Symbol('SESSION_STORE');

/**
 * Live sessions one user may hold. Past it, creating a session ends the least recently used one:
 * a client that loops logins cannot grow a user's state (and the cost of every script over it)
 * without bound.
 */
export const MAX_SESSIONS_PER_USER = 100;

export type SessionKind = 'api' | 'browser';

export interface NewSession {
  readonly userId: string;
  readonly sid: string;
  readonly kind: SessionKind;
  /** Milliseconds. Equal to the time encoded in sid. */
  readonly createdAt: number;
  /** Seconds (the access token's auth_time). */
  readonly authTime: number;
  readonly absoluteExpiresAt: number;
  /** Milliseconds of inactivity after which the session dies. */
  readonly idleTtlMs: number;
  readonly deviceLabel: string;
  readonly bindingHash: string;
  /** SHA-256 of the current secret (refresh secret or browser-session secret). */
  readonly secretHash: Buffer;
}

export interface SessionView {
  readonly userId: string;
  readonly sid: string;
  readonly kind: SessionKind;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly authTime: number;
  readonly absoluteExpiresAt: number;
  readonly deviceLabel: string;
  readonly bindingHash: string;
}

export interface RotateCommand {
  readonly userId: string;
  readonly sid: string;
  /** Only a session of this kind rotates: a browser cookie is never accepted as a refresh token. */
  readonly kind: SessionKind;
  readonly presentedHash: Buffer;
  /** The presented token carries our MAC: if it is not current, it is an old one (theft). */
  readonly genuine: boolean;
  readonly nextHash: Buffer;
  /**
   * The successor's secret sealed under the presented one (48 bytes: RefreshTokenCodec), kept
   * until the successor is used in turn: the previous secret presented again gets it back.
   */
  readonly sealedSuccessor: Buffer;
  readonly now: number;
  readonly idleTtlMs: number;
  readonly revokeAllOnReuse: boolean;
  /** Upper bound for how long a revoke-all cut-off must be remembered. */
  readonly cutoffTtlMs: number;
  /**
   * The presenting client's device binding hash, or null to skip the check (binding off). A
   * session recorded without a binding ('') is never checked. Checked only for a secret that
   * would rotate or get the replayed successor; an older secret is reuse whatever the device.
   */
  readonly bindingHash: string | null;
  /** On a binding mismatch, also delete the session (else only refuse this refresh). */
  readonly revokeOnBindingMismatch: boolean;
}

/**
 * - rotated: the current secret; the successor is now current.
 * - replayed: the immediately previous secret while its successor has never been used (a lost
 *   response, a retry, a second tab), at any time within the session's lifetimes: the sealed
 *   successor, and nothing changes. Once the successor is used, that secret is older: reused.
 * - reused: an older secret that carries our MAC: the session (or every session) is revoked.
 */
export type RotateResult =
  | { readonly kind: 'rotated'; readonly session: SessionView }
  | { readonly kind: 'replayed'; readonly session: SessionView; readonly sealedSuccessor: Buffer }
  | { readonly kind: 'reused'; readonly revokedAll: boolean }
  | { readonly kind: 'binding_mismatch'; readonly revoked: boolean }
  | { readonly kind: 'expired' }
  | { readonly kind: 'invalid' };

/** A live session with what it takes to check a presented secret (browser-session lookup). */
export interface SessionCredential {
  readonly session: SessionView;
  /**
   * SHA-256 of the current secret, or its first 16+ bytes (the Redis adapter keeps 128 bits):
   * compare it with `sameSecretHash`.
   */
  readonly secretHash: Buffer;
}

/**
 * Whether a stored secret hash (the full SHA-256 or a prefix of at least 128 bits of it) matches
 * the SHA-256 of a presented secret. Constant time in the compared length.
 */
export function sameSecretHash(stored: Buffer | null, presented: Buffer): boolean {
  return (
    stored !== null &&
    stored.length >= 16 &&
    stored.length <= presented.length &&
    timingSafeEqual(stored, presented.subarray(0, stored.length))
  );
}

export interface SessionStore {
  /**
   * Records a new session. When the user already holds MAX_SESSIONS_PER_USER live sessions, the
   * least recently used one is ended in the same atomic step; its id is returned so the caller can
   * revoke its access tokens too.
   */
  create(session: NewSession): Promise<{ readonly evicted: string | null }>;
  rotate(cmd: RotateCommand): Promise<RotateResult>;
  /** The live session, or null (unknown, expired, revoked). */
  get(userId: string, sid: string, now: number): Promise<SessionView | null>;
  /** The live session and its current secret hash, or null (unknown, expired, revoked). */
  lookup(userId: string, sid: string, now: number): Promise<SessionCredential | null>;
  /**
   * Records use of a live session: lastUsedAt = max(lastUsedAt, now), the idle timeout becomes
   * `idleTtlMs` from now (never past the absolute expiry), and the key's TTL slides with it.
   * False (and nothing written) when the session is unknown, expired or revoked. Callers
   * throttle it (a browser session is touched at most once per touch interval).
   */
  touch(userId: string, sid: string, now: number, idleTtlMs: number): Promise<boolean>;
  /** Live sessions of a user, from the per-user index (no SCAN). */
  listByUser(userId: string, now: number): Promise<SessionView[]>;
  /** True when a live session was removed. */
  revoke(userId: string, sid: string): Promise<boolean>;
  /**
   * Kills every session of the user created before `cutoff` in a constant number of writes:
   * a per-user cut-off plus dropping the index; the sessions' own keys expire by TTL.
   */
  revokeAll(userId: string, cutoff: number, cutoffTtlMs: number): Promise<void>;
  ping(): Promise<void>;
  /**
   * For the metrics gauge only (never on a request path): the number of sessions, exact in
   * memory; Redis answers the key count of its database from INFO keyspace (no SCAN, no DBSIZE
   * per call), sampled at most every 15 s. That counts every key (one per user plus counters),
   * so it is an upper bound, documented as such.
   */
  approximateSize(): Promise<number | null>;
}
