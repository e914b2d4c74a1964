import { Cluster } from 'ioredis';
import { RedisLoginAttemptStore } from '../../src/auth/abuse/login-attempt-store.redis-adapter';
import { RedisRateLimitStore } from '../../src/auth/abuse/rate-limit-store.redis-adapter';
import { createRedisConnection, duplicateRedisConnection, subscriberConnection, type RedisClient } from '../../src/auth/redis/redis-connection.factory';
import { RedisRevocationStore } from '../../src/auth/revocation/revocation-store.redis-adapter';
import { RedisSessionStore } from '../../src/auth/sessions/session-store.redis-adapter';
import { loginAttemptStoreContract } from '../contracts/login-attempt-store.contract';
import { rateLimitStoreContract } from '../contracts/rate-limit-store.contract';
import { revocationStoreContract } from '../contracts/revocation-store.contract';
import { sessionStoreContract } from '../contracts/session-store.contract';
import { startRedisCluster, type RedisClusterHarness } from '../support/redis-cluster';

/*
 * The Redis adapters' contract suites on a real 3-master, 3-replica Redis Cluster, started once for
 * this file: every script and multi-key command must touch one slot (a CROSSSLOT error fails them).
 */
let cluster: RedisClusterHarness | undefined;
const clients = new Set<RedisClient>();

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  // Not twice: a second disconnect() arms a 2 s timer on the already closed socket (ioredis 5).
  for (const c of clients) if (c.status !== 'end') c.disconnect();
  await cluster?.stop();
}, 30_000);

async function connect(name: string): Promise<Cluster> {
  if (!cluster) throw new Error('the cluster did not start (see the beforeAll error)');
  const c = createRedisConnection({ mode: 'cluster', nodes: cluster.seedNodes }, name) as Cluster;
  clients.add(c);
  await c.connect();
  return c;
}

const noCleanup = async (): Promise<void> => undefined;

sessionStoreContract('RedisSessionStore (Redis Cluster)', async () => ({ store: new RedisSessionStore(await connect('sessions')), cleanup: noCleanup }));

loginAttemptStoreContract('RedisLoginAttemptStore (Redis Cluster)', async () => ({ store: new RedisLoginAttemptStore(await connect('attempts')), cleanup: noCleanup }));

rateLimitStoreContract('RedisRateLimitStore (Redis Cluster)', async () => {
  const client = await connect('rate-limits');
  const peer = new RedisRateLimitStore(await connect('rate-limits-peer'));
  return { store: new RedisRateLimitStore(client), peer: () => peer, cleanup: noCleanup };
});

revocationStoreContract('RedisRevocationStore (two instances, Redis Cluster)', async () => {
  const [cmdA, cmdB] = await Promise.all([connect('revocations-a'), connect('revocations-b')]);
  const sub = (c: Cluster, name: string) => () => {
    const s = subscriberConnection(c, name);
    clients.add(s);
    return s;
  };
  return {
    a: new RedisRevocationStore(cmdA, sub(cmdA, 'revocations-a-sub')),
    b: new RedisRevocationStore(cmdB, sub(cmdB, 'revocations-b-sub')),
    cleanup: noCleanup,
  };
});

describe('on a cluster', () => {
  it("a host's own Cluster: auth's connection reaches the same cluster with auth's fail-fast options; the host's is untouched", async () => {
    const host = new Cluster(cluster!.seedNodes.map((n) => ({ ...n })), { lazyConnect: true });
    clients.add(host);
    await host.connect();
    const own = duplicateRedisConnection(host, 'auth') as Cluster;
    clients.add(own);
    expect(own.isCluster).toBe(true);
    expect(own.options.enableOfflineQueue).toBe(false);
    expect(own.options.redisOptions?.commandTimeout).toBe(2000);
    expect(host.options.enableOfflineQueue).toBe(true);
    await own.connect();
    await own.set('{host}:k', 'v');
    expect(await host.get('{host}:k')).toBe('v');
  });


  it('a revocation waits for a replica of the master that took it (WAIT in the key\'s pipeline)', async () => {
    const client = await connect('wait');
    const store = new RedisSessionStore(client, 'auth', 1);
    // Users on every master: each revoke-all's WAIT must reach the node of its own key.
    for (let i = 0; i < 12; i++) await expect(store.revokeAll(`wait-${i}`, Date.now())).resolves.toBeUndefined();
    const revocations = new RedisRevocationStore(client, () => subscriberConnection(client, 'wait-sub'), 'auth', 1);
    for (let i = 0; i < 12; i++) await revocations.add({ kind: 'user', userId: `wait-${i}`, cutoff: Date.now(), expiresAt: Date.now() + 60_000 }, Date.now());
  });

  it('auth_sessions counts the keys of every master', async () => {
    const client = await connect('size');
    await cluster!.flushAll();
    const store = new RedisSessionStore(client);
    // Users whose keys hash to different slots, hence (with 3 masters) to more than one master.
    for (let i = 0; i < 30; i++) await client.set(`auth:{size-${i}}`, 'x');
    expect(await store.approximateSize()).toBe(30);
  });
});
