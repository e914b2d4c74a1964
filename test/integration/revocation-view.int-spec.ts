import type Redis from 'ioredis';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AuthSettings } from '../../src/auth/common/auth-settings';
import { AuthError } from '../../src/auth/errors/auth-error.model';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { RedisRevocationStore } from '../../src/auth/revocation/revocation-store.redis-adapter';
import { RevocationView } from '../../src/auth/revocation/revocation-view.service';
import { newSessionId } from '../../src/auth/tokens/session-id.codec';
import { eventually } from '../contracts/revocation-store.contract';
import { getFreePort } from '../support/free-port';
import { startRedis, type RedisHarness } from '../support/redis-server';

const MAX_STALENESS = 5_000;
const ENTRY_TTL = 15 * 60_000;

/**
 * A TCP relay to Redis that the test can cut: it lets instance A stay away while the rest of the
 * world (Redis itself, instance B) is back, so that entries published meanwhile can reach A only
 * through the reload that follows its reconnect, and it decides which of A's two connections
 * comes back first. Cut, it stops listening (connections are refused, as with Redis down) and
 * drops what it carries.
 */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async listen(): Promise<void> {
    if (this.port === 0) this.port = await getFreePort();
    const server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  restore(): Promise<void> {
    return this.listen();
  }
}

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

describe('RevocationView: two instances on a real Redis', () => {
  let redis: RedisHarness;
  /** A's two connections each go through their own relay; B's go straight to Redis. */
  let subRelay: Relay;
  let cmdRelay: Relay;
  const clock = new ManualClock();
  const connections: Redis[] = [];
  let A: Instance;
  let B: Instance;

  function open(url: string, name: string): Redis {
    const c = createRedisConnection(url, name);
    connections.push(c);
    return c;
  }

  /** One application instance: a command connection and a subscriber, each to the URL given. */
  async function instance(name: string, commandUrl: string, subscriberUrl: string): Promise<Instance> {
    const command = open(commandUrl, name);
    await command.connect();
    let subscriber: Redis | undefined;
    const store = new RedisRevocationStore(command, () => (subscriber = open(subscriberUrl, `${name}-sub`)));
    const options = { revocationMaxStaleness: MAX_STALENESS } as AuthSettings;
    const view = new RevocationView(store, options, clock);
    await view.onModuleInit();
    await eventually(() => view.isConnected, 5_000, `${name} connected`);
    return { view, store, command, subscriber: () => subscriber };
  }

  function sessionEntry(sid: string) {
    return { kind: 'session' as const, sid, expiresAt: clock.now() + ENTRY_TTL };
  }

  beforeAll(async () => {
    redis = await startRedis();
    subRelay = new Relay(redis.port);
    cmdRelay = new Relay(redis.port);
    await subRelay.listen();
    await cmdRelay.listen();
    A = await instance('A', `redis://127.0.0.1:${cmdRelay.port}`, `redis://127.0.0.1:${subRelay.port}`);
    B = await instance('B', redis.url, redis.url);
  });

  afterAll(async () => {
    await A?.view.onApplicationShutdown();
    await B?.view.onApplicationShutdown();
    // The views closed their subscribers; a second disconnect() would arm a 2 s timer (ioredis 5).
    for (const c of connections) if (c.status !== 'end') c.disconnect();
    await subRelay?.cut();
    await cmdRelay?.cut();
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
    await subRelay.cut();
    await cmdRelay.cut();
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
    await subRelay.restore();
    await eventually(() => A.subscriber()?.status === 'ready', 10_000, "A's subscriber");
    await expect(A.store.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(A.view.isConnected).toBe(false);
    expect(A.view.check(revokedDuringOutage, 'u-2')).toBe('stale');
    // ...and once its command connection is back too, the view reloads by itself.
    await cmdRelay.restore();
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
