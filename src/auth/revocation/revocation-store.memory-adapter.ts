import { RevocationEntry, RevocationFeed, RevocationListener, RevocationStore, decodeMember, encodeEntry } from './revocation-store.port';

/** Single-process adapter: the "broadcast" reaches the listeners of this process only. */
export class MemoryRevocationStore implements RevocationStore {
  private readonly entries = new Map<string, number>();
  private readonly listeners = new Set<RevocationListener>();

  async add(entry: RevocationEntry, now: number): Promise<void> {
    const { member } = encodeEntry(entry);
    this.entries.set(member, Math.max(entry.expiresAt, this.entries.get(member) ?? 0));
    for (const [m, exp] of this.entries) if (exp <= now) this.entries.delete(m);
    for (const l of this.listeners) l.onEntry(entry);
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
