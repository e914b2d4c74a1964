import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { MemoryRateLimitStore } from '../../src/auth/abuse/rate-limit-store.memory-adapter';
import { RedisRateLimitStore } from '../../src/auth/abuse/rate-limit-store.redis-adapter';
import { rateLimitStoreContract } from '../contracts/rate-limit-store.contract';
import { startRedis } from '../support/redis-server';

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
    // A second instance: its own adapter, the same Redis.
    peer: () => peers[0] ?? (peers[0] = new RedisRateLimitStore(client)),
    async cleanup() {
      await client.quit().catch(() => client.disconnect());
      await redis.stop();
    },
  };
});
