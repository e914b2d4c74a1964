import type Redis from 'ioredis';
import type { AuthSettings } from '../../src/auth/common/auth-settings';
import { systemClock, type Clock } from '../../src/auth/common/clock.port';
import { AuthError } from '../../src/auth/errors/auth-error.model';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { RedisRevocationStore } from '../../src/auth/revocation/revocation-store.redis-adapter';
import { RevocationView } from '../../src/auth/revocation/revocation-view.service';
import { newSessionId } from '../../src/auth/tokens/session-id.codec';
import { eventually } from '../contracts/revocation-store.contract';
import { startRedis, type RedisHarness } from '../support/redis-server';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const MAX_STALENESS = 5_000;
const ENTRY_TTL = 15 * 60_000;

/** A clock that stands still unless the test moves it. */
class ManualClock {
  t = Date.now();
  now = (): number => this.t;
}

interface Instance {
  view: RevocationView;
  store: RedisRevocationStore;
  command: Redis;
  subscriber: () => Redis | undefined;
}

/** One application instance: a command connection and a subscriber, each to the URL given. */
async function startInstance(
  name: string,
  urls: { command: string; subscriber: string },
  clock: Clock,
  maxStaleness: number,
  connections: Redis[],
): Promise<Instance> {
  const open = (url: string, connectionName: string): Redis => {
    const c = createRedisConnection(url, connectionName);
    connections.push(c);
    return c;
  };
  const command = open(urls.command, name);
  await command.connect();
  let subscriber: Redis | undefined;
  const store = new RedisRevocationStore(command, () => (subscriber = open(urls.subscriber, `${name}-sub`)));
  const view = new RevocationView(store, { revocationMaxStaleness: maxStaleness } as AuthSettings, clock);
  await view.onModuleInit();
  await eventually(() => view.isConnected, 5_000, `${name} connected`);
  return { view, store, command, subscriber: () => subscriber };
}

async function stopInstances(instances: Array<Instance | undefined>, connections: Redis[]): Promise<void> {
  for (const i of instances) await i?.view.onApplicationShutdown();
  // The views closed their subscribers; a second disconnect() would arm a 2 s timer (ioredis 5).
  for (const c of connections) if (c.status !== 'end') c.disconnect();
}

describe('RevocationView: two instances on a real Redis', () => {
  let redis: RedisHarness;
  /**
   * A's two connections each go through their own proxy; B's go straight to Redis. A cut proxy
   * keeps instance A away while the rest of the world (Redis itself, instance B) is back, so that
   * entries published meanwhile reach A only through the reload that follows its reconnect, and
   * decides which of A's two connections comes back first.
   */
  let subProxy: TcpProxy;
  let cmdProxy: TcpProxy;
  const clock = new ManualClock();
  const connections: Redis[] = [];
  let A: Instance;
  let B: Instance;

  function sessionEntry(sid: string) {
    return { kind: 'session' as const, sid, expiresAt: clock.now() + ENTRY_TTL };
  }

  beforeAll(async () => {
    redis = await startRedis();
    subProxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
    cmdProxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
    const viaProxies = { command: `redis://127.0.0.1:${cmdProxy.port}`, subscriber: `redis://127.0.0.1:${subProxy.port}` };
    A = await startInstance('A', viaProxies, clock, MAX_STALENESS, connections);
    B = await startInstance('B', { command: redis.url, subscriber: redis.url }, clock, MAX_STALENESS, connections);
  });

  afterAll(async () => {
    await stopInstances([A, B], connections);
    await subProxy?.close();
    await cmdProxy?.close();
    await redis?.stop();
  });

  it('a revocation recorded through A is seen by B within a second', async () => {
    const sid = newSessionId(clock.now() - 1_000);
    const other = newSessionId(clock.now() - 1_000);
    expect(B.view.check(sid, 'u-1')).toBe('ok');
    await A.store.add(sessionEntry(sid), clock.now());
    await eventually(() => B.view.check(sid, 'u-1') === 'revoked', 1_000, 'B sees the revocation');
    await eventually(() => A.view.check(sid, 'u-1') === 'revoked', 1_000, 'A sees its own revocation');
    expect(B.view.check(other, 'u-1')).toBe('ok');
  });

  it('a user cut-off revokes the sessions created before it and none after', async () => {
    const cutoff = clock.now() - 10_000;
    const userId = 'user-cutoff';
    const before = newSessionId(cutoff - 1);
    const at = newSessionId(cutoff);
    const after = newSessionId(cutoff + 1);
    await B.store.add({ kind: 'user', userId, cutoff, expiresAt: clock.now() + ENTRY_TTL }, clock.now());
    await eventually(() => A.view.check(before, userId) === 'revoked', 1_000, 'A sees the cut-off');
    expect(A.view.check(at, userId)).toBe('ok');
    expect(A.view.check(after, userId)).toBe('ok');
    expect(A.view.check(before, 'someone-else')).toBe('ok');
    expect(B.view.check(before, userId)).toBe('revoked');
    expect(B.view.check(after, userId)).toBe('ok');
  });

  it('survives a Redis outage: trusted within the staleness bound, "stale" past it, reloaded after the restart', async () => {
    const revokedBefore = newSessionId(clock.now() - 1_000);
    const live = newSessionId(clock.now() - 1_000);
    await B.store.add(sessionEntry(revokedBefore), clock.now());
    await eventually(() => A.view.check(revokedBefore, 'u-2') === 'revoked', 1_000, 'A sees the revocation');

    // --- Redis goes down --------------------------------------------------------------------
    // A's connections stay away even once Redis is back, until the test restores them.
    await subProxy.cut();
    await cmdProxy.cut();
    await redis.stop();
    await eventually(() => !A.view.isConnected && !B.view.isConnected, 5_000, 'both views disconnected');
    const downAt = clock.now();

    // Within the bound the local copy is trusted, in both directions.
    clock.t = downAt + MAX_STALENESS;
    expect(A.view.check(revokedBefore, 'u-2')).toBe('revoked');
    expect(A.view.check(live, 'u-2')).toBe('ok');
    // Past it, nothing is trusted: the guard has to ask the store.
    clock.t = downAt + MAX_STALENESS + 1;
    expect(A.view.check(revokedBefore, 'u-2')).toBe('stale');
    expect(A.view.check(live, 'u-2')).toBe('stale');
    // ...and the store is not there.
    const failed = await A.view.resync().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(AuthError);
    expect((failed as AuthError).code).toBe('STORE_UNAVAILABLE');
    expect(A.view.check(live, 'u-2')).toBe('stale');

    // --- Redis is back (empty: no persistence); A is still cut off -------------------------
    await redis.start();
    await eventually(() => B.view.isConnected, 10_000, 'B reconnected');
    const revokedDuringOutage = newSessionId(clock.now() - 1_000);
    const cutUser = 'user-cut-during-outage';
    const cutSid = newSessionId(clock.now() - 1_000);
    await B.store.add(sessionEntry(revokedDuringOutage), clock.now());
    await B.store.add({ kind: 'user', userId: cutUser, cutoff: clock.now(), expiresAt: clock.now() + ENTRY_TTL }, clock.now());
    await eventually(() => B.view.check(revokedDuringOutage, 'u-2') === 'revoked', 1_000, 'B sees the new revocation');
    expect(A.view.isConnected).toBe(false);
    expect(A.view.check(revokedDuringOutage, 'u-2')).toBe('stale'); // A never heard of it

    // A's feed comes back first: the reload it triggers fails, commands being still cut off...
    await subProxy.restore();
    await eventually(() => A.subscriber()?.status === 'ready', 10_000, "A's subscriber");
    await expect(A.store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(A.view.isConnected).toBe(false);
    expect(A.view.check(revokedDuringOutage, 'u-2')).toBe('stale');
    // ...and once its command connection is back too, the view reloads by itself.
    await cmdProxy.restore();
    await eventually(() => A.view.isConnected, 10_000, 'A reconnected');

    // Authoritative again (the clock is still far past the bound), with what it missed.
    expect(A.view.check(revokedDuringOutage, 'u-2')).toBe('revoked');
    expect(A.view.check(cutSid, cutUser)).toBe('revoked');
    expect(A.view.check(live, 'u-2')).toBe('ok');
    // Its own earlier knowledge survives an empty Redis.
    expect(A.view.check(revokedBefore, 'u-2')).toBe('revoked');

    // And the feed itself is live again.
    const afterRestart = newSessionId(clock.now() - 1_000);
    await B.store.add(sessionEntry(afterRestart), clock.now());
    await eventually(() => A.view.check(afterRestart, 'u-2') === 'revoked', 1_000, 'A hears the feed again');
  });
});

describe('RevocationView: a feed that goes silent without closing (real time)', () => {
  const BUDGET = 2_000;
  let redis: RedisHarness;
  let subProxy: TcpProxy;
  const connections: Redis[] = [];
  let A: Instance;
  let B: Instance;

  beforeAll(async () => {
    redis = await startRedis();
    subProxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
    // Only A's feed goes through the proxy: its commands still reach Redis.
    A = await startInstance('A', { command: redis.url, subscriber: `redis://127.0.0.1:${subProxy.port}` }, systemClock, BUDGET, connections);
    B = await startInstance('B', { command: redis.url, subscriber: redis.url }, systemClock, BUDGET, connections);
  });

  afterAll(async () => {
    await stopInstances([A, B], connections);
    await subProxy?.close();
    await redis?.stop();
  });

  it('A stops trusting the silent feed within the budget, confirms against the store by itself, and sees the revocation', async () => {
    const sid = newSessionId(Date.now() - 1_000);
    expect(A.view.check(sid, 'u')).toBe('ok');
    subProxy.stall();
    const revokedAt = Date.now();
    await B.store.add({ kind: 'session', sid, expiresAt: revokedAt + ENTRY_TTL }, revokedAt);
    expect(B.view.isConnected).toBe(true);

    // What A answers, every few ms, until it knows.
    let lastOk = revokedAt;
    for (;;) {
      const state = A.view.check(sid, 'u');
      if (state === 'revoked') break;
      if (state === 'ok') lastOk = Date.now();
      if (Date.now() - revokedAt > 10_000) throw new Error(`A still answers ${state} 10 s after the revocation`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const knownAt = Date.now();
    // Never "ok" for longer than the budget, although the feed never delivered the entry.
    expect(lastOk - revokedAt).toBeLessThanOrEqual(BUDGET);
    expect(knownAt - revokedAt).toBeLessThanOrEqual(BUDGET + 1_000);
    // The link is open but silent: readiness reports the feed down.
    await eventually(() => !A.view.isConnected, 5_000, 'A reports its feed down');

    // The link comes back: the feed proves itself again.
    subProxy.resume();
    await eventually(() => A.view.isConnected, 15_000, 'A hears its feed again');
    const after = newSessionId(Date.now() - 1_000);
    await B.store.add({ kind: 'session', sid: after, expiresAt: Date.now() + ENTRY_TTL }, Date.now());
    await eventually(() => A.view.check(after, 'u') === 'revoked', 1_000, 'A hears the feed');
  }, 30_000);
});
