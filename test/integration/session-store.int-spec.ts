import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedStores } from '../../src/auth/embedded/embedded-stores.factory';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { MemorySessionStore } from '../../src/auth/sessions/session-store.memory-adapter';
import { RedisSessionStore } from '../../src/auth/sessions/session-store.redis-adapter';
import type { SessionStore } from '../../src/auth/sessions/session-store.port';
import { ABSOLUTE_MS, freshUser, newSession, rotateCmd, sessionStoreContract } from '../contracts/session-store.contract';
import { startRedis } from '../support/redis-server';
import { privateRedisConnection } from '../support/redis-connection.fixture';

sessionStoreContract('MemorySessionStore', async () => ({
  store: new MemorySessionStore(),
  cleanup: async () => undefined,
}));

// The embedded default with EMBEDDED_DATA_DIR: every change is also written to its state file.
sessionStoreContract('MemorySessionStore kept in an embedded state file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'session-store-contract-'));
  return { store: createEmbeddedStores(dir).sessions, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

sessionStoreContract('RedisSessionStore (private redis-server)', async () => {
  const redis = await startRedis();
  const client = createRedisConnection(redis.url, 'session-store-contract');
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    await redis.stop();
    throw err;
  }
  return {
    store: new RedisSessionStore(client),
    async cleanup() {
      await client.quit().catch(() => client.disconnect());
      await redis.stop();
    },
  };
});

/** The hash tag Redis Cluster hashes: the content of the first {...} with at least one character. */
function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : null;
}

describe('RedisSessionStore: what only a real Redis shows', () => {
  const fx = privateRedisConnection('session-store-invariants');
  let store: SessionStore;

  beforeAll(() => {
    store = new RedisSessionStore(fx.client);
  });

  beforeEach(async () => {
    await fx.server.flushAll();
  });

  /** Every store operation that writes: sessions, rotation (successor), reuse (cut-off), revoke, revoke-all. */
  async function exerciseEveryWrite(users: string[], t0: number): Promise<void> {
    for (const u of users) {
      const a = newSession(u, t0);
      const b = newSession(u, t0 + 1, { kind: 'browser', idleTtlMs: 60_000 });
      const c = newSession(u, t0 + 2, { absoluteExpiresAt: t0 + 2 + 5 * 60_000 });
      const d = newSession(u, t0 + 3);
      for (const s of [a, b, c, d]) await store.create(s);
      const r1 = rotateCmd(a, a.secretHash, t0 + 1_000);
      await store.rotate(r1); // writes the sealed successor
      await store.rotate(rotateCmd(b, b.secretHash, t0 + 1_000, { kind: 'browser' }));
      await store.rotate(rotateCmd(c, c.secretHash, t0 + 1_000, { idleTtlMs: 10 * 60_000 })); // idle beyond absolute
      await store.revoke(u, d.sid);
      await store.touch(u, b.sid, t0 + 2_000, 60_000); // slides the idle TTL
      await store.listByUser(u, t0 + 1_000);
      await store.get(u, a.sid, t0 + 1_000);
    }
    // Reuse with revoke-all for the first user (writes the cut-off), revoke-all for the second.
    const victim = newSession(users[0], t0 + 4);
    await store.create(victim);
    const v1 = rotateCmd(victim, victim.secretHash, t0 + 2_000);
    await store.rotate(v1);
    await store.rotate(rotateCmd(victim, v1.nextHash, t0 + 2_100));
    await store.rotate(rotateCmd(victim, victim.secretHash, t0 + 2_200, { revokeAllOnReuse: true }));
    if (users[1]) await store.revokeAll(users[1], t0 + 3_000, ABSOLUTE_MS);
    // A session after the cut-off: the index is recreated.
    await store.create(newSession(users[0], t0 + 4_000));
  }

  it('invariant 6: every key written has a TTL > 0 and no longer than the absolute session lifetime', async () => {
    const users = [freshUser(), freshUser()];
    await exerciseEveryWrite(users, Date.now());
    const keys = await fx.client.keys('*'); // test-only inspection; the store itself never uses KEYS
    expect(keys.length).toBeGreaterThan(0);
    // The one kind of key the store writes: a user's hash (sessions, index and sealed successors).
    expect(new Set(keys.map((k) => (/\}$/.test(k) ? 'user' : k)))).toEqual(new Set(['user']));
    for (const key of keys) {
      const pttl = await fx.client.pttl(key);
      expect({ key, ok: pttl > 0 && pttl <= ABSOLUTE_MS }).toEqual({ key, ok: true });
    }
  });

  it('invariant 5: all keys of one user share the hash tag {userId}', async () => {
    const users = [freshUser(), freshUser()];
    await exerciseEveryWrite(users, Date.now());
    const keys = await fx.client.keys('*');
    for (const key of keys) expect(users).toContain(hashTag(key));
    // Every operation touches that user's one key.
    for (const u of users) expect(keys.filter((k) => hashTag(k) === u)).toHaveLength(1);
  });

  it("a user's hash stays in Redis's compact listpack encoding, even with long device labels and binding hashes", async () => {
    const u = freshUser();
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      const s = newSession(u, t0 + i, { deviceLabel: 'Ünïcödé device label that is far longer than any label we derive', bindingHash: 'b'.repeat(43) });
      await store.create(s);
      await store.rotate(rotateCmd(s, s.secretHash, t0 + 100 + i));
    }
    const [key] = await fx.client.keys(`*{${u}}`);
    expect(await fx.client.object('ENCODING', key)).toBe('listpack');
    // Labels are shortened on a character boundary, never cut inside a UTF-8 sequence.
    for (const v of await store.listByUser(u, t0 + 200)) expect(v.deviceLabel).not.toMatch(/\uFFFD/);
  });

  it('invariant 5: no KEYS or SCAN on any store operation', async () => {
    await fx.client.config('RESETSTAT');
    await exerciseEveryWrite([freshUser(), freshUser()], Date.now());
    const stats = await fx.client.info('commandstats');
    expect(stats).toMatch(/cmdstat_(evalsha|eval):/); // the statistics do record the store's commands
    expect(stats).not.toMatch(/cmdstat_(keys|scan):/);
  });

  it("a user's key expires with the idle timeout of their last live session; the sealed successor lives in it, no key of its own", async () => {
    const t0 = Date.now();
    const u = freshUser();
    const s = newSession(u, t0, { idleTtlMs: 60_000 });
    await store.create(s);
    const [sKey] = await fx.client.keys(`*{${u}}`);
    const sTtl = await fx.client.pttl(sKey);
    expect(sTtl).toBeGreaterThan(50_000);
    expect(sTtl).toBeLessThanOrEqual(60_000);
    const r1 = rotateCmd(s, s.secretHash, t0 + 10, { idleTtlMs: 60_000 });
    await store.rotate(r1);
    expect(await fx.client.keys(`*{${u}}*`)).toEqual([sKey]);
    expect(await fx.client.hgetBuffer(sKey, `${s.sid}:g`)).toEqual(r1.sealedSuccessor);
    // Small enough for the compact encoding (see the key layout in the adapter).
    expect(await fx.client.object('ENCODING', sKey)).toBe('listpack');
    // The next rotation replaces it; a revoke removes it with the session.
    const r2 = rotateCmd(s, r1.nextHash, t0 + 20, { idleTtlMs: 60_000 });
    await store.rotate(r2);
    expect(await fx.client.hgetBuffer(sKey, `${s.sid}:g`)).toEqual(r2.sealedSuccessor);
    await store.revoke(u, s.sid);
    expect(await fx.client.hexists(sKey, `${s.sid}:g`)).toBe(0);
  });

  it('a session rotated by an earlier build (no sealed successor in the hash): its previous secret is refused, not theft', async () => {
    const t0 = Date.now();
    const u = freshUser();
    const s = newSession(u, t0);
    await store.create(s);
    const r1 = rotateCmd(s, s.secretHash, t0 + 10);
    await store.rotate(r1);
    const [key] = await fx.client.keys(`*{${u}}`);
    expect(await fx.client.hdel(key, `${s.sid}:g`)).toBe(1);
    expect(await store.rotate(rotateCmd(s, s.secretHash, t0 + 20, { revokeAllOnReuse: true }))).toEqual({ kind: 'invalid' });
    expect(await store.get(u, s.sid, t0 + 20)).not.toBeNull();
    expect((await store.rotate(rotateCmd(s, r1.nextHash, t0 + 30))).kind).toBe('rotated');
  });

  it("touch slides the user key's TTL to the session's new idle deadline, never past the absolute lifetime", async () => {
    const t0 = Date.now();
    const u = freshUser();
    const s = newSession(u, t0, { kind: 'browser', idleTtlMs: 5_000, absoluteExpiresAt: t0 + 100_000 });
    await store.create(s);
    const [key] = await fx.client.keys(`*{${u}}`);
    expect(await fx.client.pttl(key)).toBeLessThanOrEqual(5_000);
    expect(await store.touch(u, s.sid, t0 + 1_000, 60_000)).toBe(true);
    const slid = await fx.client.pttl(key);
    expect(slid).toBeGreaterThan(50_000);
    expect(slid).toBeLessThanOrEqual(60_000);
    // Near the absolute end, the deadline is capped by it; the key (shared by the user's sessions)
    // never shortens, and never outlives the absolute lifetime.
    expect(await store.touch(u, s.sid, t0 + 50_000, 60_000)).toBe(true);
    expect(await fx.client.pttl(key)).toBeLessThanOrEqual(100_000);
    expect(await store.get(u, s.sid, t0 + 100_000)).toBeNull();
  });

  it('a stopped Redis surfaces as AuthError STORE_UNAVAILABLE, and the store works again after a restart', async () => {
    const u = freshUser();
    await fx.server.stop();
    try {
      const s = newSession(u, Date.now());
      await expect(store.create(s)).rejects.toMatchObject({ name: 'AuthError', code: 'STORE_UNAVAILABLE' });
      await expect(store.rotate(rotateCmd(s, s.secretHash, Date.now()))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.get(u, s.sid, Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.listByUser(u, Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.lookup(u, s.sid, Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.touch(u, s.sid, Date.now(), 60_000)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.revoke(u, s.sid)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.revokeAll(u, Date.now(), ABSOLUTE_MS)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      await fx.server.start();
    }
    // ioredis reconnects in the background (capped back-off); the scripts are reloaded after NOSCRIPT.
    const deadline = Date.now() + 10_000;
    while (fx.client.status !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    const t0 = Date.now();
    const s = newSession(u, t0);
    await store.create(s);
    expect((await store.rotate(rotateCmd(s, s.secretHash, t0 + 1))).kind).toBe('rotated');
  });
});
