import type Redis from 'ioredis';
import type { Socket } from 'node:net';
import { createRedisConnection } from '../../src/auth/redis/redis-connection.factory';
import { startRedis, type RedisHarness } from '../support/redis-server';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('createRedisConnection: one socket write per turn of the event loop (real redis-server)', () => {
  let server: RedisHarness;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedis();
    client = createRedisConnection(server.url, 'test');
    await client.connect();
  });

  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  it('holds the commands of one turn in the corked socket, sends them together, and answers each in order', async () => {
    const socket = client.stream as Socket;
    const replies = Array.from({ length: 20 }, (_, i) => client.echo(`m${i}`));
    // Nothing has left yet: the bytes of all twenty wait in the corked socket.
    expect(socket.writableCorked).toBe(1);
    expect(socket.writableLength).toBeGreaterThan(20 * 10);
    await nextTurn();
    expect(socket.writableCorked).toBe(0);
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('a command from a later turn goes in a batch of its own', async () => {
    await client.set('k', '1');
    const socket = client.stream as Socket;
    expect(socket.writableCorked).toBe(0);
    const a = client.incr('k');
    expect(socket.writableCorked).toBe(1);
    await nextTurn();
    const b = client.incr('k');
    expect(await Promise.all([a, b])).toEqual([2, 3]);
  });

  it('fails fast while the server is down, and batches again once it is back', async () => {
    await server.stop();
    await expect(client.ping()).rejects.toThrow();
    await server.start();
    for (let i = 0; i < 100 && client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(client.status).toBe('ready');
    const socket = client.stream as Socket;
    const replies = [client.ping(), client.ping(), client.ping()];
    expect(socket.writableCorked).toBe(1);
    expect(await Promise.all(replies)).toEqual(['PONG', 'PONG', 'PONG']);
    expect(socket.writableCorked).toBe(0);
  });
});
