import { randomUUID } from 'node:crypto';
import type { RevocationEntry, RevocationFeed, RevocationListener, RevocationStore } from '../../src/auth/revocation/revocation-store.port';
import { newSessionId } from '../../src/auth/tokens/session-id.codec';

/**
 * Two handles on ONE revocation list, as two application instances see it: for an adapter shared
 * between processes (Redis) two store instances with their own connections; for the in-process
 * adapter the same instance twice (its broadcast reaches this process only, by design).
 */
export interface RevocationStoreFixture {
  a: RevocationStore;
  b: RevocationStore;
  cleanup(): Promise<void>;
}

/** A listener that records what it is told, with a way to wait for it. */
export class RecordingListener implements RevocationListener {
  readonly entries: RevocationEntry[] = [];
  connected = 0;
  disconnected = 0;

  onEntry(entry: RevocationEntry): void {
    this.entries.push(entry);
  }
  onConnected(): void {
    this.connected++;
  }
  onDisconnected(): void {
    this.disconnected++;
  }
}

/** Polls `predicate` every few ms; fails after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 2_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sortKey(e: RevocationEntry): string {
  return e.kind === 'session' ? `s ${e.sid}` : `u ${e.userId} ${e.cutoff}`;
}

function sorted(entries: RevocationEntry[]): RevocationEntry[] {
  return [...entries].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : sortKey(x) > sortKey(y) ? 1 : 0));
}

/** The entries of `all` that concern the ids of this test (stores may be shared between tests). */
function mine(all: RevocationEntry[], ids: Set<string>): RevocationEntry[] {
  return sorted(all.filter((e) => ids.has(e.kind === 'session' ? e.sid : e.userId)));
}

export function revocationStoreContract(name: string, factory: () => Promise<RevocationStoreFixture>): void {
  describe(`RevocationStore contract: ${name}`, () => {
    let fixture: RevocationStoreFixture | undefined;
    const f = (): RevocationStoreFixture => {
      if (!fixture) throw new Error('fixture not initialised (see the beforeAll error above)');
      return fixture;
    };
    const feeds: RevocationFeed[] = [];
    let now: number;

    beforeAll(async () => {
      fixture = await factory();
    }, 60_000);

    afterEach(async () => {
      while (feeds.length) await feeds.pop()!.close();
    });

    afterAll(async () => {
      await fixture?.cleanup();
    }, 30_000);

    beforeEach(() => {
      now = Date.now();
    });

    async function subscribe(store: RevocationStore): Promise<RecordingListener & { feed: RevocationFeed }> {
      const l = new RecordingListener();
      const feed = await store.subscribe(l);
      feeds.push(feed);
      await eventually(() => l.connected > 0, 5_000, 'onConnected');
      return Object.assign(l, { feed });
    }

    it('snapshot returns session and user entries added through either handle', async () => {
      const sid = newSessionId(now);
      const userId = `user-${randomUUID()}`;
      const entries: RevocationEntry[] = [
        { kind: 'session', sid, expiresAt: now + 60_000 },
        { kind: 'user', userId, cutoff: now - 5, expiresAt: now + 120_000 },
      ];
      await f().a.add(entries[0], now);
      await f().b.add(entries[1], now);
      const ids = new Set([sid, userId]);
      expect(mine(await f().a.snapshot(now), ids)).toEqual(sorted(entries));
      expect(mine(await f().b.snapshot(now), ids)).toEqual(sorted(entries));
    });

    it('keeps user ids with spaces and non-ASCII characters intact', async () => {
      const userId = `ü ser ${randomUUID()}`;
      const entry: RevocationEntry = { kind: 'user', userId, cutoff: now, expiresAt: now + 60_000 };
      await f().a.add(entry, now);
      expect(mine(await f().b.snapshot(now), new Set([userId]))).toEqual([entry]);
    });

    it('snapshot excludes entries that have expired (expiresAt <= now)', async () => {
      const live = newSessionId(now);
      const edge = newSessionId(now);
      const past = newSessionId(now);
      await f().a.add({ kind: 'session', sid: live, expiresAt: now + 1_000 }, now);
      await f().a.add({ kind: 'session', sid: edge, expiresAt: now + 500 }, now);
      await f().a.add({ kind: 'session', sid: past, expiresAt: now - 1 }, now);
      const ids = new Set([live, edge, past]);
      expect(mine(await f().b.snapshot(now), ids).map((e) => (e.kind === 'session' ? e.sid : ''))).toEqual(
        [live, edge].sort(),
      );
      expect(mine(await f().b.snapshot(now + 500), ids)).toEqual([{ kind: 'session', sid: live, expiresAt: now + 1_000 }]);
      expect(mine(await f().b.snapshot(now + 1_000), ids)).toEqual([]);
    });

    it('adding an entry again keeps the later expiry, never shortens it', async () => {
      const sid = newSessionId(now);
      await f().a.add({ kind: 'session', sid, expiresAt: now + 60_000 }, now);
      await f().b.add({ kind: 'session', sid, expiresAt: now + 30_000 }, now);
      expect(mine(await f().a.snapshot(now), new Set([sid]))).toEqual([{ kind: 'session', sid, expiresAt: now + 60_000 }]);
      await f().b.add({ kind: 'session', sid, expiresAt: now + 90_000 }, now);
      expect(mine(await f().a.snapshot(now), new Set([sid]))).toEqual([{ kind: 'session', sid, expiresAt: now + 90_000 }]);
    });

    it('two cut-offs of one user are both kept', async () => {
      const userId = `user-${randomUUID()}`;
      await f().a.add({ kind: 'user', userId, cutoff: now - 10, expiresAt: now + 60_000 }, now);
      await f().a.add({ kind: 'user', userId, cutoff: now, expiresAt: now + 60_000 }, now);
      expect(mine(await f().b.snapshot(now), new Set([userId])).map((e) => (e.kind === 'user' ? e.cutoff : 0)).sort()).toEqual([
        now - 10,
        now,
      ]);
    });

    it('subscribe fires onConnected, and delivers entries added through the other handle', async () => {
      const onB = await subscribe(f().b);
      const onA = await subscribe(f().a);
      expect(onB.connected).toBe(1);
      const sid = newSessionId(now);
      const userId = `user-${randomUUID()}`;
      const e1: RevocationEntry = { kind: 'session', sid, expiresAt: now + 60_000 };
      const e2: RevocationEntry = { kind: 'user', userId, cutoff: now, expiresAt: now + 60_000 };
      await f().a.add(e1, now);
      await f().b.add(e2, now);
      const ids = new Set([sid, userId]);
      await eventually(() => mine(onB.entries, ids).length === 2, 2_000, 'both entries on b');
      await eventually(() => mine(onA.entries, ids).length === 2, 2_000, 'both entries on a');
      expect(mine(onB.entries, ids)).toEqual(sorted([e1, e2]));
      expect(mine(onA.entries, ids)).toEqual(sorted([e1, e2]));
      expect(onB.disconnected).toBe(0);
    });

    it('after unsubscribe a listener hears nothing more, while others still do', async () => {
      const stays = await subscribe(f().b);
      const leaves = new RecordingListener();
      const feed = await f().b.subscribe(leaves);
      await eventually(() => leaves.connected > 0, 5_000, 'onConnected');
      await feed.close();
      const sid = newSessionId(now);
      await f().a.add({ kind: 'session', sid, expiresAt: now + 60_000 }, now);
      await eventually(() => stays.entries.some((e) => e.kind === 'session' && e.sid === sid), 2_000, 'the entry');
      expect(leaves.entries.filter((e) => e.kind === 'session' && e.sid === sid)).toEqual([]);
      expect(leaves.disconnected).toBe(0); // leaving on purpose is not a lost connection
    });

    it('a probe of the feed resolves only after every entry added before it has reached the listener', async () => {
      const onB = await subscribe(f().b);
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const sid = newSessionId(now);
        ids.add(sid);
        await f().a.add({ kind: 'session', sid, expiresAt: now + 60_000 }, now);
      }
      await onB.feed.probe();
      // No waiting: the probe's answer came after them on the same connection.
      expect(mine(onB.entries, ids)).toHaveLength(20);
    });

    it('ping resolves while the store is reachable', async () => {
      await expect(f().a.ping()).resolves.toBeUndefined();
    });
  });
}
