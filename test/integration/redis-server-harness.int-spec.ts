import Redis from 'ioredis';
import { connect } from 'node:net';
import { redisCommand, startRedis, type RedisHarness } from '../support/redis-server';

/** Resolves with the error code of a plain TCP connect, or 'CONNECTED'. */
function tcpProbe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('CONNECTED');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
  });
}

async function ping(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return await client.ping();
  } finally {
    client.disconnect();
  }
}

describe('startRedis (private redis-server harness)', () => {
  let redis: RedisHarness | undefined;

  afterAll(async () => {
    await redis?.stop();
  });

  it('starts a private server on a loopback port that answers PING', async () => {
    redis = await startRedis();
    expect(redis.port).not.toBe(6379);
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(redis.running).toBe(true);
    expect(await ping(redis.url)).toBe('PONG');
  });

  it('has no persistence and its own directory', async () => {
    const client = new Redis(redis!.url);
    try {
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      const [, dir] = (await client.config('GET', 'dir')) as [string, string];
      expect(dir).toMatch(/redis-harness-/);
    } finally {
      client.disconnect();
    }
  });

  it('stop() returns only once the port refuses connections', async () => {
    const pid = redis!.pid!;
    await redis!.stop();
    expect(redis!.running).toBe(false);
    expect(await tcpProbe(redis!.port)).toBe('ECONNREFUSED');
    expect(() => process.kill(pid, 0)).toThrow(); // the process is gone, not just its socket
    await expect(redisCommand(redis!.port, ['PING'], 1_000)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('start() brings it back on the same port, empty', async () => {
    const port = redis!.port;
    await redis!.start();
    expect(redis!.port).toBe(port);
    expect(await ping(redis!.url)).toBe('PONG');
    const client = new Redis(redis!.url);
    client.on('error', () => undefined); // reconnect attempts while it is down
    try {
      await client.set('k', 'v');
      await redis!.kill(); // a crash
      expect(await tcpProbe(port)).toBe('ECONNREFUSED');
      await redis!.start();
      expect(await client.get('k')).toBeNull(); // ioredis reconnected; nothing was persisted
    } finally {
      client.disconnect();
    }
  });

  it('pause() makes the server hang until resume()', async () => {
    await redis!.pause();
    const client = new Redis(redis!.url, { commandTimeout: 300, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await expect(client.ping()).rejects.toThrow(/timed out/i);
      await redis!.resume();
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('two harnesses get different ports', async () => {
    const other = await startRedis();
    try {
      expect(other.port).not.toBe(redis!.port);
      expect(await ping(other.url)).toBe('PONG');
    } finally {
      await other.stop();
    }
  });
});
