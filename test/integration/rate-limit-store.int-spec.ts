import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { MemoryRateLimitStore } from '../../src/auth/abuse/rate-limit-store.memory-adapter';
import { RedisRateLimitStore } from '../../src/auth/abuse/rate-limit-store.redis-adapter';
import { rateLimitStoreContract } from '../contracts/rate-limit-store.contract';
import { startRedis } from '../support/redis-server';
import { privateRedisConnection } from '../support/redis-connection.fixture';

rateLimitStoreContract('MemoryRateLimitStore', async () => {
  const store = new MemoryRateLimitStore();
  return { store, peer: () => store, cleanup: async () => undefined };
});

rateLimitStoreContract('RedisRateLimitStore (private redis-server)', async () => {
  const redis = await startRedis();
  const client = createRedisConnection(redis.url, 'rate-limit-contract');
  await client.connect();
  const peers: RedisRateLimitStore[] = [];
  return {
    store: new RedisRateLimitStore(client),
    // A second instance: its own leases, the same Redis.
    peer: () => peers[0] ?? (peers[0] = new RedisRateLimitStore(client)),
    async cleanup() {
      await client.quit().catch(() => client.disconnect());
      await redis.stop();
    },
  };
});

describe('RedisRateLimitStore leases (private redis-server)', () => {
  const fx = privateRedisConnection('rate-limit-leases');

  /** EVALSHA plus EVAL (ioredis falls back to EVAL once when the script is not loaded yet). */
  const scriptCalls = async (): Promise<number> => {
    const stats = await fx.client.info('commandstats');
    return ['evalsha', 'eval'].reduce((n, c) => n + Number(new RegExp(`cmdstat_${c}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0);
  };

  it('a client that keeps coming back costs one script call per lease (up to 64 hits), not per hit', async () => {
    const store = new RedisRateLimitStore(fx.client);
    const before = await scriptCalls();
    for (let i = 0; i < 500; i++) expect((await store.increment('busy-client', 60_000, 100_000, 60_000, 'refresh')).isBlocked).toBe(false);
    const calls = (await scriptCalls()) - before;
    // 1 + 2 + 4 + 8 + 16 + 32 + 64 = 127 hits in 7 calls, then 64 per call: 13 calls for 500.
    expect(calls).toBeLessThanOrEqual(15);
    expect(calls).toBeGreaterThanOrEqual(7);
  });

  it('a client seen once per window costs exactly one call, reserving nothing beyond its own hit', async () => {
    const store = new RedisRateLimitStore(fx.client);
    const before = await scriptCalls();
    for (let i = 0; i < 20; i++) await store.increment(`one-off-${i}`, 60_000, 10, 60_000, 'login');
    expect((await scriptCalls()) - before).toBe(20);
    expect(Number(await fx.client.get('auth:rl:{login:one-off-0}:h'))).toBe(1);
  });

  it('near the limit leases shrink to single hits', async () => {
    const store = new RedisRateLimitStore(fx.client);
    for (let i = 0; i < 95; i++) await store.increment('near', 60_000, 100, 60_000, 'refresh');
    const reserved = Number(await fx.client.get('auth:rl:{refresh:near}:h'));
    // At most 1/8 of what was left under the limit is ever reserved ahead.
    expect(reserved - 95).toBeLessThanOrEqual(Math.ceil((100 - 95) / 8) + 1);
  });
});
