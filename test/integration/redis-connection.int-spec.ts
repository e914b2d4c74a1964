import { privateRedisConnection } from '../support/redis-connection.fixture';

describe('createRedisConnection (real redis-server)', () => {
  const redis = privateRedisConnection('connection');

  it('fails fast while the server is down (no offline queue), and serves again once it is back', async () => {
    await redis.server.stop();
    const started = Date.now();
    await expect(redis.client.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    await redis.server.start();
    for (let i = 0; i < 100 && redis.client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(redis.client.status).toBe('ready');
    expect(await Promise.all([redis.client.ping(), redis.client.ping(), redis.client.ping()])).toEqual(['PONG', 'PONG', 'PONG']);
  });
});
