import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';

/** DI token for the shared command connection (absent in in-memory mode). */
export const REDIS_CONNECTION = Symbol('REDIS_CONNECTION');

/** A single server (possibly found through Sentinel) or a Redis Cluster: the stores work on both. */
export type RedisClient = Redis | Cluster;

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where auth's stores live: one server by URL, a cluster by its seed nodes, or a Sentinel-watched master. */
export type RedisTarget =
  | { readonly mode: 'single'; readonly url: string }
  | { readonly mode: 'cluster'; readonly nodes: readonly RedisNode[] }
  | { readonly mode: 'sentinel'; readonly sentinels: readonly RedisNode[]; readonly name: string };

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

/**
 * The same fail-fast rules for a cluster: no offline queue on the cluster nor on its node
 * connections, and a MOVED/TRYAGAIN/CLUSTERDOWN retried only briefly, so that a failover shows as
 * 503 until a replica is promoted rather than as hung requests.
 */
function clusterOptions(name: string): ClusterOptions {
  return {
    enableOfflineQueue: false,
    lazyConnect: true,
    maxRedirections: 4,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 1000,
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    redisOptions: { ...redisOptions(), connectionName: name },
  };
}

export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/** The target the settings name, or null (in-memory stores). A URL wins only when nothing else is set: the config schema refuses two. */
export function redisTargetOf(o: {
  readonly redisUrl: string | null;
  readonly redisClusterNodes: readonly RedisNode[] | null;
  readonly redisSentinel: { readonly sentinels: readonly RedisNode[]; readonly name: string } | null;
}): RedisTarget | null {
  if (o.redisClusterNodes?.length) return { mode: 'cluster', nodes: o.redisClusterNodes };
  if (o.redisSentinel) return { mode: 'sentinel', ...o.redisSentinel };
  return o.redisUrl ? { mode: 'single', url: o.redisUrl } : null;
}

/** A string is a redis:// or rediss:// URL (one server). */
export function createRedisConnection(url: string, name: string): Redis;
export function createRedisConnection(target: RedisTarget, name: string): RedisClient;
export function createRedisConnection(targetOrUrl: RedisTarget | string, name: string): RedisClient {
  const target: RedisTarget = typeof targetOrUrl === 'string' ? { mode: 'single', url: targetOrUrl } : targetOrUrl;
  const client: RedisClient =
    target.mode === 'cluster'
      ? new Cluster(target.nodes.map((n) => ({ ...n })), clusterOptions(name))
      : target.mode === 'sentinel'
        ? new Redis({ ...redisOptions(), connectionName: name, sentinels: target.sentinels.map((n) => ({ ...n })), name: target.name })
        : new Redis(target.url, { ...redisOptions(), connectionName: name });
  // Errors surface per command; an 'error' listener keeps ioredis from logging unhandled events.
  client.on('error', () => undefined);
  return client;
}

/**
 * A connection of auth's own to the server or cluster the host's client talks to (same nodes,
 * credentials, TLS), with auth's fail-fast settings. Auth never closes or reconfigures the host's
 * client itself.
 */
export function duplicateRedisConnection(host: RedisClient, name: string): RedisClient {
  let client: RedisClient;
  if (isCluster(host)) {
    const own = clusterOptions(name);
    // The host's node options (password, TLS) under auth's fail-fast ones.
    client = host.duplicate(undefined, { ...own, redisOptions: { ...host.options.redisOptions, ...own.redisOptions } });
  } else {
    client = host.duplicate({ ...redisOptions(), connectionName: name });
  }
  client.on('error', () => undefined);
  return client;
}

/**
 * A single-server connection for the revocation feed's SUBSCRIBE. On a cluster: to one node, picked
 * at random among those the cluster knows now (a PUBLISH reaches every node, replicas included),
 * giving up at its first disconnect so that its owner asks for a new one, on a node that is up.
 * Throws while the cluster knows no node yet.
 */
export function subscriberConnection(client: RedisClient, name: string): Redis {
  if (!isCluster(client)) return duplicateRedisConnection(client, name) as Redis;
  const nodes = client.nodes('all');
  if (nodes.length === 0) throw new Error('no cluster node known yet');
  const { host, port } = nodes[Math.floor(Math.random() * nodes.length)].options;
  const sub = new Redis({ ...client.options.redisOptions, ...redisOptions(), host, port, connectionName: name, retryStrategy: () => null });
  sub.on('error', () => undefined);
  return sub;
}

/** Connects, but never blocks boot forever: an unreachable Redis leaves the app up and answering 503. */
export async function connectQuietly(client: RedisClient, timeoutMs = 3000): Promise<boolean> {
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
