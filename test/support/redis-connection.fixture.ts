import type Redis from 'ioredis';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { startRedis, type RedisHarness } from './redis-server';

/**
 * For a describe block: a private redis-server and the app's own kind of connection to it
 * (createRedisConnection), started before the block's tests and stopped after them. Read them
 * through the getters inside hooks and tests.
 */
export function privateRedisConnection(name: string): { readonly server: RedisHarness; readonly client: Redis } {
  let server: RedisHarness | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = createRedisConnection(server.url, name);
    await client.connect();
  }, 60_000);
  afterAll(async () => {
    await client?.quit().catch(() => client?.disconnect());
    await server?.stop();
  });
  return {
    get server(): RedisHarness {
      if (!server) throw new Error('privateRedisConnection: used outside its describe block');
      return server;
    },
    get client(): Redis {
      if (!client) throw new Error('privateRedisConnection: used outside its describe block');
      return client;
    },
  };
}
