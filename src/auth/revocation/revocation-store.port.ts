/**
 * The revocation list for access tokens: which sessions are revoked and, per user, the revoke-all
 * cut-off. Entries live only as long as an access token issued before them can (then every such
 * token has expired anyway), so the list stays small. Every instance keeps a local copy (see
 * RevocationView) fed by publish/subscribe, so the access path needs no store round trip.
 */
export const REVOCATION_STORE = Symbol('REVOCATION_STORE');

export type RevocationEntry =
  | { readonly kind: 'session'; readonly sid: string; readonly expiresAt: number }
  | { readonly kind: 'user'; readonly userId: string; readonly cutoff: number; readonly expiresAt: number };

export interface RevocationListener {
  onEntry(entry: RevocationEntry): void;
  /** The feed is (re)established: anything may have been missed before it, so reload. */
  onConnected(): void;
  onDisconnected(): void;
}

/** One subscription to the broadcast (what `subscribe` returns). */
export interface RevocationFeed {
  /**
   * A round trip on the feed's own connection: resolves once every entry broadcast before the
   * call has reached the listener. Rejects when the feed does not answer in time; a connection
   * that is open but silent is then replaced (onDisconnected, later onConnected).
   */
  probe(): Promise<void>;
  /** Leaves the broadcast; the listener is not called again (not even onDisconnected). */
  close(): Promise<void>;
}

export interface RevocationStore {
  /** Records the entry and broadcasts it to every instance, in one atomic step. */
  add(entry: RevocationEntry, now: number): Promise<void>;
  /** Every entry not yet expired. */
  snapshot(now: number): Promise<RevocationEntry[]>;
  subscribe(listener: RevocationListener): Promise<RevocationFeed>;
  ping(): Promise<void>;
}

/** Wire form shared by adapters: `<expiresAt> s <sid>` or `<expiresAt> u <cutoff> <userId>`. */
export function encodeEntry(e: RevocationEntry): { member: string; message: string } {
  const member = e.kind === 'session' ? `s ${e.sid}` : `u ${e.cutoff} ${e.userId}`;
  return { member, message: `${e.expiresAt} ${member}` };
}

export function decodeMember(member: string, expiresAt: number): RevocationEntry | null {
  if (member.startsWith('s ')) return { kind: 'session', sid: member.slice(2), expiresAt };
  const m = /^u (\d+) (.+)$/s.exec(member);
  return m ? { kind: 'user', userId: m[2], cutoff: Number(m[1]), expiresAt } : null;
}

export function decodeMessage(message: string): RevocationEntry | null {
  const space = message.indexOf(' ');
  const expiresAt = Number(message.slice(0, space));
  return space > 0 && Number.isFinite(expiresAt) ? decodeMember(message.slice(space + 1), expiresAt) : null;
}
