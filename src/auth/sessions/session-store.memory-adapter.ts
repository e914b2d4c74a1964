import { MAX_SESSIONS_PER_USER, sameSecretHash, type NewSession, type RotateCommand, type RotateResult, type SessionCredential, type SessionStore, type SessionView } from './session-store.port';

interface Entry {
  view: Mutable<SessionView>;
  idleTtlMs: number;
  secretHash: Buffer;
  prevHash: Buffer | null;
  /** The current secret sealed under the previous one, once rotated. */
  sealedSuccessor: Buffer | null;
}
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The store's whole state as JSON-safe data (hashes and sealed successors in base64), for the embedded state file. */
export interface MemorySessionState {
  readonly sessions: ReadonlyArray<{
    readonly view: SessionView;
    readonly idleTtlMs: number;
    readonly secretHash: string;
    readonly prevHash: string | null;
    readonly sealedSuccessor: string | null;
  }>;
  readonly cutoffs: ReadonlyArray<readonly [userId: string, cutoff: { readonly at: number; readonly until: number }]>;
}

/**
 * Single-process adapter: the embedded default. Each method makes its change without awaiting,
 * so every transition is atomic within the process; only then does it await `persist` (the
 * embedded state file, see embedded-stores.factory), so a caller's answer never precedes the
 * change being on disk. Semantics mirror the Redis adapter exactly (both run the same contract
 * suite).
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Entry>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly cutoffs = new Map<string, { at: number; until: number }>();
  private createsSinceSweep = 0;

  constructor(
    private readonly wallClock: () => number = Date.now,
    private readonly persist: () => Promise<void> = async () => undefined,
  ) {}

  async create(s: NewSession): Promise<{ readonly evicted: string | null }> {
    // Bounded state: sessions nobody presents again are dropped by an amortised sweep.
    if (++this.createsSinceSweep >= 256) this.sweep(s.createdAt);
    const evicted = this.evictIfFull(s.userId, s.createdAt);
    const { secretHash, idleTtlMs, ...rest } = s;
    this.sessions.set(this.key(s.userId, s.sid), {
      view: { ...rest, lastUsedAt: s.createdAt },
      idleTtlMs,
      secretHash: Buffer.from(secretHash),
      prevHash: null,
      sealedSuccessor: null,
    });
    let set = this.byUser.get(s.userId);
    if (!set) this.byUser.set(s.userId, (set = new Set()));
    set.add(s.sid);
    await this.persist();
    return { evicted };
  }

  /** At the cap, ends the least recently used live session of the user (dead ones are dropped). */
  private evictIfFull(userId: string, now: number): string | null {
    let live = 0;
    let oldest: SessionView | null = null;
    for (const sid of [...(this.byUser.get(userId) ?? [])]) {
      const e = this.sessions.get(this.key(userId, sid));
      if (!e || this.cutOff(e.view) || this.expired(e, now)) {
        this.drop(userId, sid);
        continue;
      }
      live++;
      if (!oldest || e.view.lastUsedAt < oldest.lastUsedAt) oldest = e.view;
    }
    if (live < MAX_SESSIONS_PER_USER || !oldest) return null;
    this.drop(userId, oldest.sid);
    return oldest.sid;
  }

  async rotate(cmd: RotateCommand): Promise<RotateResult> {
    const result = this.rotateNow(cmd);
    await this.persist();
    return result;
  }

  private rotateNow(cmd: RotateCommand): RotateResult {
    const key = this.key(cmd.userId, cmd.sid);
    const e = this.sessions.get(key);
    if (!e || e.view.kind !== cmd.kind) return { kind: 'invalid' };
    if (this.cutOff(e.view)) {
      this.drop(cmd.userId, cmd.sid);
      return { kind: 'invalid' };
    }
    if (this.expired(e, cmd.now)) {
      this.drop(cmd.userId, cmd.sid);
      return { kind: 'expired' };
    }
    const current = sameSecretHash(e.secretHash, cmd.presentedHash);
    // The previous secret while its successor is unused (a used one would be prevHash itself).
    const replay = !current && sameSecretHash(e.prevHash, cmd.presentedHash) && e.sealedSuccessor !== null;
    if ((current || replay) && cmd.bindingHash !== null && e.view.bindingHash !== '' && e.view.bindingHash !== cmd.bindingHash) {
      if (cmd.revokeOnBindingMismatch) this.drop(cmd.userId, cmd.sid);
      return { kind: 'binding_mismatch', revoked: cmd.revokeOnBindingMismatch };
    }
    if (current) {
      e.prevHash = e.secretHash;
      e.secretHash = Buffer.from(cmd.nextHash);
      e.view.lastUsedAt = cmd.now;
      e.idleTtlMs = cmd.idleTtlMs;
      e.sealedSuccessor = Buffer.from(cmd.sealedSuccessor);
      return { kind: 'rotated', session: { ...e.view } };
    }
    if (replay && e.sealedSuccessor) {
      return { kind: 'replayed', session: { ...e.view }, sealedSuccessor: Buffer.from(e.sealedSuccessor) };
    }
    if (!cmd.genuine) return { kind: 'invalid' };
    this.drop(cmd.userId, cmd.sid);
    if (cmd.revokeAllOnReuse) this.revokeAllSync(cmd.userId, cmd.now, cmd.cutoffTtlMs);
    return { kind: 'reused', revokedAll: cmd.revokeAllOnReuse };
  }

  async get(userId: string, sid: string, now: number): Promise<SessionView | null> {
    const e = this.sessions.get(this.key(userId, sid));
    if (!e || this.cutOff(e.view) || this.expired(e, now)) return null;
    return { ...e.view };
  }

  async lookup(userId: string, sid: string, now: number): Promise<SessionCredential | null> {
    const e = this.sessions.get(this.key(userId, sid));
    if (!e || this.cutOff(e.view) || this.expired(e, now)) return null;
    return { session: { ...e.view }, secretHash: Buffer.from(e.secretHash) };
  }

  async touch(userId: string, sid: string, now: number, idleTtlMs: number): Promise<boolean> {
    const e = this.sessions.get(this.key(userId, sid));
    if (!e || this.cutOff(e.view) || this.expired(e, now)) return false;
    e.view.lastUsedAt = Math.max(e.view.lastUsedAt, now);
    e.idleTtlMs = idleTtlMs;
    await this.persist();
    return true;
  }

  async listByUser(userId: string, now: number): Promise<SessionView[]> {
    const out: SessionView[] = [];
    for (const sid of this.byUser.get(userId) ?? []) {
      const v = await this.get(userId, sid, now);
      if (v) out.push(v);
      else this.drop(userId, sid);
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }

  async revoke(userId: string, sid: string): Promise<boolean> {
    const e = this.sessions.get(this.key(userId, sid));
    const live = !!e && !this.cutOff(e.view);
    this.drop(userId, sid);
    await this.persist();
    return live;
  }

  async revokeAll(userId: string, cutoff: number, cutoffTtlMs: number): Promise<void> {
    this.revokeAllSync(userId, cutoff, cutoffTtlMs);
    await this.persist();
  }

  async ping(): Promise<void> {}

  /** Removes every expired or cut-off session; O(sessions), run once per 256 creates. */
  sweep(now: number): void {
    this.createsSinceSweep = 0;
    for (const e of [...this.sessions.values()]) {
      if (this.expired(e, now) || this.cutOff(e.view)) this.drop(e.view.userId, e.view.sid);
    }
  }

  /** Sessions held, live or not yet swept (for metrics and tests). */
  get size(): number {
    return this.sessions.size;
  }

  async approximateSize(): Promise<number | null> {
    return this.sessions.size;
  }

  exportState(): MemorySessionState {
    const b64 = (b: Buffer | null) => (b === null ? null : b.toString('base64'));
    return {
      sessions: [...this.sessions.values()].map((e) => ({
        view: { ...e.view },
        idleTtlMs: e.idleTtlMs,
        secretHash: e.secretHash.toString('base64'),
        prevHash: b64(e.prevHash),
        sealedSuccessor: b64(e.sealedSuccessor),
      })),
      cutoffs: [...this.cutoffs].map(([userId, c]) => [userId, { ...c }] as const),
    };
  }

  /** Replaces the whole state with one exportState() returned (at boot, before any request). */
  importState(state: MemorySessionState): void {
    const buf = (s: string | null) => (s === null ? null : Buffer.from(s, 'base64'));
    this.sessions.clear();
    this.byUser.clear();
    this.cutoffs.clear();
    for (const e of state.sessions) {
      const { userId, sid } = e.view;
      this.sessions.set(this.key(userId, sid), {
        view: { ...e.view },
        idleTtlMs: e.idleTtlMs,
        secretHash: Buffer.from(e.secretHash, 'base64'),
        prevHash: buf(e.prevHash),
        sealedSuccessor: buf(e.sealedSuccessor),
      });
      let set = this.byUser.get(userId);
      if (!set) this.byUser.set(userId, (set = new Set()));
      set.add(sid);
    }
    for (const [userId, c] of state.cutoffs) this.cutoffs.set(userId, { at: c.at, until: c.until });
  }

  private revokeAllSync(userId: string, cutoff: number, ttlMs: number): void {
    const prev = this.cutoffs.get(userId);
    this.cutoffs.set(userId, { at: Math.max(cutoff, prev?.at ?? 0), until: this.wallClock() + ttlMs });
    for (const sid of this.byUser.get(userId) ?? []) this.sessions.delete(this.key(userId, sid));
    this.byUser.delete(userId);
  }

  private cutOff(v: SessionView): boolean {
    const c = this.cutoffs.get(v.userId);
    if (!c) return false;
    if (c.until < this.wallClock()) {
      this.cutoffs.delete(v.userId);
      return false;
    }
    return v.createdAt < c.at;
  }

  private expired(e: Entry, now: number): boolean {
    return now >= e.view.absoluteExpiresAt || now >= e.view.lastUsedAt + e.idleTtlMs;
  }

  private drop(userId: string, sid: string): void {
    this.sessions.delete(this.key(userId, sid));
    const set = this.byUser.get(userId);
    if (set) {
      set.delete(sid);
      if (set.size === 0) this.byUser.delete(userId);
    }
  }

  private key(userId: string, sid: string): string {
    return `${userId}\u0000${sid}`;
  }
}
