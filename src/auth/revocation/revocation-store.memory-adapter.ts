import { RevocationEntry, RevocationFeed, RevocationListener, RevocationStore, decodeMember, encodeEntry } from './revocation-store.port';

/** The list as JSON-safe data: [member (the wire form of encodeEntry), expiresAt] pairs. */
export type MemoryRevocationState = ReadonlyArray<readonly [member: string, expiresAt: number]>;

/**
 * Single-process adapter: the "broadcast" reaches the listeners of this process only. `add`
 * records and broadcasts at once, then awaits `persist` (the embedded state file, see
 * embedded-stores.factory): a logout answers only once its revocation is on disk.
 */
export class MemoryRevocationStore implements RevocationStore {
  private readonly entries = new Map<string, number>();
  private readonly listeners = new Set<RevocationListener>();

  constructor(private readonly persist: () => Promise<void> = async () => undefined) {}

  async add(entry: RevocationEntry, now: number): Promise<void> {
    const { member } = encodeEntry(entry);
    this.entries.set(member, Math.max(entry.expiresAt, this.entries.get(member) ?? 0));
    for (const [m, exp] of this.entries) if (exp <= now) this.entries.delete(m);
    for (const l of this.listeners) l.onEntry(entry);
    await this.persist();
  }

  exportState(): MemoryRevocationState {
    return [...this.entries];
  }

  /** Replaces the list with one exportState() returned (at boot, before anyone subscribes). */
  importState(state: MemoryRevocationState): void {
    this.entries.clear();
    for (const [member, expiresAt] of state) {
      if (decodeMember(member, expiresAt) !== null) this.entries.set(member, expiresAt);
    }
  }

  async snapshot(now: number): Promise<RevocationEntry[]> {
    const out: RevocationEntry[] = [];
    for (const [m, exp] of this.entries) {
      const e = exp > now ? decodeMember(m, exp) : null;
      if (e) out.push(e);
    }
    return out;
  }

  async subscribe(listener: RevocationListener): Promise<RevocationFeed> {
    this.listeners.add(listener);
    listener.onConnected();
    return {
      // Delivery is synchronous: whatever was added before has reached the listener already.
      probe: async () => undefined,
      close: async () => {
        this.listeners.delete(listener);
      },
    };
  }

  async ping(): Promise<void> {}
}
