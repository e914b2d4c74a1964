import { randomBytes } from 'node:crypto';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { MemoryRecoveryTokenStore } from '../../src/auth/recovery/recovery-token-store.memory-adapter';
import { RedisRecoveryTokenStore } from '../../src/auth/recovery/recovery-token-store.redis-adapter';
import { recoveryTokenStoreContract } from '../contracts/recovery-token-store.contract';
import { privateRedisConnection } from '../support/redis-connection.fixture';
import { startRedis } from '../support/redis-server';

recoveryTokenStoreContract('MemoryRecoveryTokenStore', async () => ({ store: new MemoryRecoveryTokenStore(), cleanup: async () => undefined }));

recoveryTokenStoreContract('RedisRecoveryTokenStore (private redis-server)', async () => {
  const redis = await startRedis();
  const client = createRedisConnection(redis.url, 'recovery-token-contract');
  await client.connect();
  return {
    store: new RedisRecoveryTokenStore(client),
    async cleanup() {
      await client.quit().catch(() => client.disconnect());
      await redis.stop();
    },
  };
});

describe('RedisRecoveryTokenStore: keys', () => {
  const fx = privateRedisConnection('recovery-token-keys');

  it("one key per user and purpose, in the user's hash tag, holding only a hash, with a TTL of the token's lifetime", async () => {
    const store = new RedisRecoveryTokenStore(fx.client);
    const now = Date.now();
    const secretHash = randomBytes(32);
    await store.issue('reset-password', 'user-1', { hash: randomBytes(32), expiresAt: now + 1_800_000 }, now);
    await store.issue('reset-password', 'user-1', { hash: secretHash, expiresAt: now + 1_800_000 }, now);
    await store.issue('verify-email', 'user-1', { hash: randomBytes(32), expiresAt: now + 86_400_000 }, now);
    const keys = (await fx.client.keys('*')).sort();
    expect(keys).toEqual(['auth:{user-1}:rk:reset-password', 'auth:{user-1}:rk:verify-email']);
    expect(await fx.client.get('auth:{user-1}:rk:reset-password')).toBe(`${now + 1_800_000}:${secretHash.toString('base64url')}`);
    const pttl = await fx.client.pttl('auth:{user-1}:rk:reset-password');
    expect(pttl).toBeGreaterThan(1_790_000);
    expect(pttl).toBeLessThanOrEqual(1_800_000);
  });

  it('a store outage is STORE_UNAVAILABLE, not an internal error', async () => {
    const client = createRedisConnection('redis://127.0.0.1:1', 'recovery-token-down');
    const store = new RedisRecoveryTokenStore(client);
    try {
      await expect(store.find('verify-email', 'u', Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      client.disconnect();
    }
  });
});
