import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { createEmbeddedStores } from '../../src/auth/embedded/embedded-stores.factory';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { MemoryRevocationStore } from '../../src/auth/revocation/revocation-store.memory-adapter';
import { RedisRevocationStore } from '../../src/auth/revocation/revocation-store.redis-adapter';
import type { RevocationFeed } from '../../src/auth/revocation/revocation-store.port';
import { newSessionId } from '../../src/auth/tokens/session-id.codec';
import { eventually, RecordingListener, revocationStoreContract } from '../contracts/revocation-store.contract';
import { startRedis, type RedisHarness } from '../support/redis-server';
import { startTcpProxy } from '../support/tcp-proxy';

revocationStoreContract('MemoryRevocationStore', async () => {
  const store = new MemoryRevocationStore();
  return { a: store, b: store, cleanup: async () => undefined };
});

// The embedded default with EMBEDDED_DATA_DIR: every entry is also written to its state file.
revocationStoreContract('MemoryRevocationStore kept in an embedded state file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'revocation-store-contract-'));
  const store = createEmbeddedStores(dir).revocations;
  return { a: store, b: store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

/** Connections made for one suite, so that its clean-up closes every one of them. */
class Connections {
  private readonly all = new Set<Redis>();
  constructor(private readonly url: string) {}
  open(name: string): Redis {
    const c = createRedisConnection(this.url, name);
    this.all.add(c);
    return c;
  }
  closeAll(): void {
    // Not twice: a second disconnect() arms a 2 s timer on the already closed socket (ioredis 5).
    for (const c of this.all) if (c.status !== 'end') c.disconnect();
    this.all.clear();
  }
}

/** Two instances: each its own command connection and its own subscriber connections. */
async function twoInstances(redis: RedisHarness, conns: Connections): Promise<{ a: RedisRevocationStore; b: RedisRevocationStore }> {
  const cmdA = conns.open('revocations-a');
  const cmdB = conns.open('revocations-b');
  await Promise.all([cmdA.connect(), cmdB.connect()]);
  return {
    a: new RedisRevocationStore(cmdA, () => conns.open('revocations-a-sub')),
    b: new RedisRevocationStore(cmdB, () => conns.open('revocations-b-sub')),
  };
}

revocationStoreContract('RedisRevocationStore (two instances, private redis-server)', async () => {
  const redis = await startRedis();
  const conns = new Connections(redis.url);
  try {
    const { a, b } = await twoInstances(redis, conns);
    return {
      a,
      b,
      async cleanup() {
        conns.closeAll();
        await redis.stop();
      },
    };
  } catch (err) {
    conns.closeAll();
    await redis.stop();
    throw err;
  }
});

describe('RedisRevocationStore: what only a real Redis shows', () => {
  let redis: RedisHarness;
  let conns: Connections;
  let a: RedisRevocationStore;
  let b: RedisRevocationStore;
  let inspect: Redis;
  const feeds: RevocationFeed[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    conns = new Connections(redis.url);
    ({ a, b } = await twoInstances(redis, conns));
    inspect = conns.open('inspect');
    await inspect.connect();
  });

  afterEach(async () => {
    while (feeds.length) await feeds.pop()!.close();
  });

  afterAll(async () => {
    conns?.closeAll();
    await redis?.stop();
  });

  it('invariant 6: every shard key has a TTL that covers its longest entry and no more', async () => {
    await redis.flushAll();
    const now = Date.now();
    await a.add({ kind: 'session', sid: newSessionId(now), expiresAt: now + 60_000 }, now);
    await a.add({ kind: 'user', userId: 'u1', cutoff: now, expiresAt: now + 120_000 }, now);
    await a.add({ kind: 'session', sid: newSessionId(now), expiresAt: now + 30_000 }, now);
    const keys = await inspect.keys('*'); // test-only inspection
    expect(keys.length).toBeGreaterThanOrEqual(1);
    const pttls = await Promise.all(keys.map((k) => inspect.pttl(k)));
    for (const pttl of pttls) {
      expect(pttl).toBeGreaterThan(20_000);
      expect(pttl).toBeLessThanOrEqual(120_000);
    }
    expect(Math.max(...pttls)).toBeGreaterThan(110_000);
  });

  it('spreads the list over shard keys, each its own hash tag, and the snapshot reads them all', async () => {
    await redis.flushAll();
    const now = Date.now();
    const sids = Array.from({ length: 64 }, (_, i) => newSessionId(now - i));
    for (const sid of sids) await a.add({ kind: 'session', sid, expiresAt: now + 60_000 }, now);
    const keys = await inspect.keys('*');
    expect(keys.length).toBeGreaterThanOrEqual(8);
    for (const k of keys) expect(k).toMatch(/^auth:revoked:\{\d+\}$/);
    const snap = await b.snapshot(now);
    expect(snap.map((e) => (e.kind === 'session' ? e.sid : '')).sort()).toEqual([...sids].sort());
  });

  it('add and snapshot fail with STORE_UNAVAILABLE while Redis is down; the subscriber reports the loss and the return', async () => {
    const listener = new RecordingListener();
    feeds.push(await b.subscribe(listener));
    await eventually(() => listener.connected === 1, 5_000, 'onConnected');

    await redis.stop();
    try {
      await eventually(() => listener.disconnected > 0, 5_000, 'onDisconnected');
      const now = Date.now();
      await expect(a.add({ kind: 'session', sid: newSessionId(now), expiresAt: now + 60_000 }, now)).rejects.toMatchObject({
        name: 'AuthError',
        code: 'STORE_UNAVAILABLE',
      });
      await expect(a.snapshot(now)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(a.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      await redis.start();
    }

    // ioredis reconnects by itself (capped back-off): onConnected again, and the channel is live again.
    await eventually(() => listener.connected === 2, 10_000, 'onConnected after the restart');
    await eventually(() => a.ping().then(() => true, () => false), 10_000, 'the command connection');
    const now = Date.now();
    const sid = newSessionId(now);
    await a.add({ kind: 'session', sid, expiresAt: now + 60_000 }, now);
    await eventually(() => listener.entries.some((e) => e.kind === 'session' && e.sid === sid), 2_000, 'the entry after the restart');
  });

  it('a probe over a link that went silent (open, nothing passes) rejects, and the subscriber is replaced', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
    const proxied = new Connections(`redis://127.0.0.1:${proxy.port}`);
    const viaProxy = new RedisRevocationStore(inspect, () => proxied.open('revocations-proxied-sub'));
    const listener = new RecordingListener();
    try {
      const feed = await viaProxy.subscribe(listener);
      feeds.push(feed);
      await eventually(() => listener.connected === 1, 5_000, 'onConnected');
      await expect(feed.probe()).resolves.toBeUndefined();

      proxy.stall();
      await expect(feed.probe()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      // The open socket is given up: a lost feed, not a feed that is merely quiet.
      await eventually(() => listener.disconnected === 1, 5_000, 'onDisconnected');
      expect(listener.connected).toBe(1);

      proxy.resume();
      await eventually(() => listener.connected === 2, 10_000, 'onConnected on a new connection');
      const now = Date.now();
      const sid = newSessionId(now);
      await a.add({ kind: 'session', sid, expiresAt: now + 60_000 }, now);
      await feed.probe();
      expect(listener.entries.some((e) => e.kind === 'session' && e.sid === sid)).toBe(true);
    } finally {
      await feeds.pop()?.close();
      proxied.closeAll();
      await proxy.close();
    }
  });
});
