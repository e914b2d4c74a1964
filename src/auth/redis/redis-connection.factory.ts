import Redis, { RedisOptions } from 'ioredis';
import type { Socket } from 'node:net';

/** DI token for the shared command connection (absent in in-memory mode). */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');

/**
 * Fail fast rather than queue: with the store down a request must get 503 now, not hang.
 * Reconnection goes on in the background with a capped back-off.
 */
export function redisOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    // Off: coalesceWrites (below) keeps its one write per batch without its Pipeline objects.
    enableAutoPipelining: false,
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
  coalesceWrites(client);
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

/**
 * The commands issued during one turn of the event loop leave in one socket write: the socket is
 * corked at the first and uncorked from setImmediate, once the I/O callbacks of that turn (other
 * requests' commands among them) have run. A socket write costs ~18 µs of CPU on the benchmark
 * machine, more than any of our code on the refresh path. ioredis's auto-pipelining gets the
 * same single write by building a Pipeline per batch, with a promise and a nextTick per command
 * on top: measured at 22 µs of client CPU per script call against 14-17 µs this way.
 */
function coalesceWrites(client: Redis): void {
  const send = client.sendCommand.bind(client);
  let corked: Socket | null = null;
  const flush = (): void => {
    const socket = corked;
    corked = null;
    socket?.uncork();
  };
  client.sendCommand = ((command, stream) => {
    const socket = client.stream as Socket | undefined;
    if (corked === null && stream === undefined && client.status === 'ready' && socket && !socket.destroyed) {
      corked = socket;
      socket.cork();
      setImmediate(flush);
    }
    return send(command, stream);
  }) as Redis['sendCommand'];
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
