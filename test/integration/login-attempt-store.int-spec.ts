import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { MemoryLoginAttemptStore } from '../../src/auth/abuse/login-attempt-store.memory-adapter';
import { RedisLoginAttemptStore } from '../../src/auth/abuse/login-attempt-store.redis-adapter';
import { loginAttemptStoreContract, POLICY } from '../contracts/login-attempt-store.contract';
import { startRedis } from '../support/redis-server';
import { privateRedisConnection } from '../support/redis-connection.fixture';

loginAttemptStoreContract('MemoryLoginAttemptStore', async () => ({ store: new MemoryLoginAttemptStore(), cleanup: async () => undefined }));

loginAttemptStoreContract('RedisLoginAttemptStore (private redis-server)', async () => {
  const redis = await startRedis();
  const client = createRedisConnection(redis.url, 'login-attempt-contract');
  await client.connect();
  return {
    store: new RedisLoginAttemptStore(client),
    async cleanup() {
      await client.quit().catch(() => client.disconnect());
      await redis.stop();
    },
  };
});

describe('RedisLoginAttemptStore: keys', () => {
  const fx = privateRedisConnection('login-attempt-keys');

  it('every key has a TTL no longer than max(decay, trust) and shares the account hash tag', async () => {
    const store = new RedisLoginAttemptStore(fx.client);
    const k = { account: 'acct', source: 'src' };
    await store.begin(k, Date.now(), POLICY);
    await store.begin({ account: 'acct', source: 'other' }, Date.now(), POLICY);
    await store.succeeded({ account: 'acct', source: 'third' }, Date.now(), POLICY);
    const keys = await fx.client.keys('*');
    expect(keys.length).toBe(3); // the success dropped the account counter
    for (const key of keys) {
      expect(key).toContain('{acct}');
      const pttl = await fx.client.pttl(key);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(Math.max(POLICY.decayMs, POLICY.trustedSourceMs));
    }
  });
});
