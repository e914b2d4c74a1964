import type { Socket } from 'node:net';
import { privateRedisConnection } from '../support/redis-connection.fixture';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('createRedisConnection: one socket write per turn of the event loop (real redis-server)', () => {
  const redis = privateRedisConnection('coalesced-writes');

  it('holds the commands of one turn in the corked socket, sends them together, and answers each in order', async () => {
    const socket = redis.client.stream as Socket;
    const replies = Array.from({ length: 20 }, (_, i) => redis.client.echo(`m${i}`));
    // Nothing has left yet: the bytes of all twenty wait in the corked socket.
    expect(socket.writableCorked).toBe(1);
    expect(socket.writableLength).toBeGreaterThan(20 * 10);
    await nextTurn();
    expect(socket.writableCorked).toBe(0);
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it('a command from a later turn goes in a batch of its own', async () => {
    await redis.client.set('k', '1');
    const socket = redis.client.stream as Socket;
    expect(socket.writableCorked).toBe(0);
    const a = redis.client.incr('k');
    expect(socket.writableCorked).toBe(1);
    await nextTurn();
    const b = redis.client.incr('k');
    expect(await Promise.all([a, b])).toEqual([2, 3]);
  });

  it('fails fast while the server is down, and batches again once it is back', async () => {
    await redis.server.stop();
    await expect(redis.client.ping()).rejects.toThrow();
    await redis.server.start();
    for (let i = 0; i < 100 && redis.client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(redis.client.status).toBe('ready');
    const socket = redis.client.stream as Socket;
    const replies = [redis.client.ping(), redis.client.ping(), redis.client.ping()];
    expect(socket.writableCorked).toBe(1);
    expect(await Promise.all(replies)).toEqual(['PONG', 'PONG', 'PONG']);
    expect(socket.writableCorked).toBe(0);
  });
});
