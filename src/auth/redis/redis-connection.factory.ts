import Redis, { RedisOptions } from 'ioredis';

/** DI token for the shared command connection (absent in in-memory mode). */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');

/**
 * Fail fast rather than queue: with the store down a request must get 503 now, not hang.
 * Reconnection goes on in the background with a capped back-off.
 */
export function redisOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    connectTimeout: 2000,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
}

export function createRedisConnection(url: string, name: string): Redis {
  const client = new Redis(url, { ...redisOptions(), connectionName: name });
  // Errors surface per command; an 'error' listener keeps ioredis from logging unhandled events.
  client.on('error', () => undefined);
  return client;
}

/**
 * A connection of auth's own to the server the host's client talks to (same host, port,
 * credentials, TLS), with auth's fail-fast settings. Auth never closes or reconfigures the host's
 * client itself.
 */
export function duplicateRedisConnection(host: Redis, name: string): Redis {
  const client = host.duplicate({ ...redisOptions(), connectionName: name });
  client.on('error', () => undefined);
  return client;
}

/** Connects, but never blocks boot forever: an unreachable Redis leaves the app up and answering 503. */
export async function connectQuietly(client: Redis, timeoutMs = 3000): Promise<boolean> {
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}
