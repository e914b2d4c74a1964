import { AuthError } from '../../src/auth/errors/auth-error.model';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { RedisRevocationStore } from '../../src/auth/revocation/revocation-store.redis-adapter';
import { newSessionId } from '../../src/auth/tokens/session-id.codec';
import { redisCommand, startRedis, type RedisHarness } from '../support/redis-server';

/**
 * AUTH_REDIS_WAIT_REPLICAS: a revocation is acknowledged only once a replica holds it (WAIT), so
 * a failover cannot undo it; with the replica silent the caller gets STORE_UNAVAILABLE.
 */
describe('revocations waiting for a replica (WAIT)', () => {
  let master: RedisHarness;
  let replica: RedisHarness;
  const conns: { disconnect(): void }[] = [];

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    for (let i = 0; i < 100 && !/master_link_status:up/.test(await redisCommand(replica.port, ['INFO', 'replication'], 1000)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);
  afterAll(async () => {
    for (const c of conns) c.disconnect();
    await replica?.stop();
    await master?.stop();
  });

  async function store(waitReplicas: number): Promise<RedisRevocationStore> {
    const c = createRedisConnection(master.url, 'wait');
    conns.push(c);
    await c.connect();
    return new RedisRevocationStore(c, () => createRedisConnection(master.url, 'wait-sub'), 'auth', waitReplicas);
  }

  it('resolves once the replica holds the entry', async () => {
    const s = await store(1);
    const sid = newSessionId(Date.now());
    await s.add({ kind: 'session', sid, expiresAt: Date.now() + 60_000 }, Date.now());
    const onReplica = createRedisConnection(replica.url, 'replica-read');
    conns.push(onReplica);
    await onReplica.connect();
    const keys = await onReplica.keys('auth:revoked:*');
    const members = (await Promise.all(keys.map((k) => onReplica.zrange(k, 0, -1)))).flat();
    expect(members).toContain(`s ${sid}`);
  });

  it('with the replica silent: STORE_UNAVAILABLE after the wait, without WAIT: acknowledged at once', async () => {
    const waiting = await store(1);
    const plain = await store(0);
    await replica.pause();
    try {
      const started = Date.now();
      const err = await waiting.add({ kind: 'session', sid: newSessionId(Date.now()), expiresAt: Date.now() + 60_000 }, Date.now()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).code).toBe('STORE_UNAVAILABLE');
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      await expect(plain.add({ kind: 'session', sid: newSessionId(Date.now()), expiresAt: Date.now() + 60_000 }, Date.now())).resolves.toBeUndefined();
    } finally {
      await replica.resume();
    }
  });
});
