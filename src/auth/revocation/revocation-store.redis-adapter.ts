import { randomBytes } from 'node:crypto';
import type SingleRedis from 'ioredis';
import type { Cluster } from 'ioredis';
import { isCluster, type RedisClient as Redis } from '../redis/redis-connection.factory';
import { replicatedWrite } from '../redis/replicated-write.helper';
import { redisCall } from '../redis/redis-call.helper';
import { RevocationEntry, RevocationFeed, RevocationListener, RevocationStore, decodeMember, decodeMessage, encodeEntry } from './revocation-store.port';

// KEYS: list. ARGV: member, expiresAt, now, channel, message
// The key lives as long as its longest entry (bounded state): never without a TTL.
const ADD = `
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[2]) then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local ttl = tonumber(ARGV[2]) - tonumber(ARGV[3])
if ttl > 0 and redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`;

/** As long as a command may take (redisOptions' commandTimeout). */
const PROBE_TIMEOUT_MS = 2000;

type Scripted = Redis & { authRevocationAdd(...args: (string | number)[]): Promise<number> };

/** Shards of the list: each its own key and hash tag, so no one key (or cluster slot) takes every write. */
export const REVOCATION_SHARDS = 16;

/** FNV-1a over the member: a session's or a user's entries always land in the same shard. */
function shardOf(member: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) h = Math.imul(h ^ member.charCodeAt(i), 0x01000193);
  return (h >>> 0) % REVOCATION_SHARDS;
}

/**
 * The list is spread over REVOCATION_SHARDS sorted sets (member -> expiry), `<prefix>:revoked:{n}`.
 * It is small by construction (entries live one access-token lifetime) and is read in full, every
 * shard, only at start and on reconnect. Every add is PUBLISHed on one channel: a cluster forwards
 * it to every node, so a subscriber on any node hears them all.
 */
export class RedisRevocationStore implements RevocationStore {
  private readonly redis: Scripted;
  private readonly keys: string[];
  private readonly channel: string;
  private readonly probePrefix: string;

  /** subscriberFactory: a single-server connection (a cluster's: to one node), closed by this store. */
  /** waitReplicas: replicas that must hold an entry before add() resolves (see replicatedWrite). */
  constructor(redis: Redis, private readonly subscriberFactory: () => SingleRedis, prefix = 'auth', private readonly waitReplicas = 0) {
    redis.defineCommand('authRevocationAdd', { numberOfKeys: 1, lua: ADD });
    this.redis = redis as Scripted;
    this.keys = Array.from({ length: REVOCATION_SHARDS }, (_, i) => `${prefix}:revoked:{${i}}`);
    // The single key of earlier builds, read until its entries (one access-token lifetime) are gone.
    this.keys.push(`${prefix}:revoked`);
    this.channel = `${prefix}:revoked`;
    this.probePrefix = `${prefix}:probe:`;
  }

  async add(entry: RevocationEntry, now: number): Promise<void> {
    const { member, message } = encodeEntry(entry);
    await replicatedWrite(this.redis, this.waitReplicas, 'authRevocationAdd', [this.keys[shardOf(member)], member, entry.expiresAt, now, this.channel, message]);
  }

  async snapshot(now: number): Promise<RevocationEntry[]> {
    const shards = await Promise.all(this.keys.map((key) => redisCall(() => this.redis.zrangebyscore(key, `(${now}`, '+inf', 'WITHSCORES'))));
    const out: RevocationEntry[] = [];
    for (const flat of shards) {
      for (let i = 0; i < flat.length; i += 2) {
        const e = decodeMember(flat[i], Number(flat[i + 1]));
        if (e) out.push(e);
      }
    }
    return out;
  }

  async subscribe(listener: RevocationListener): Promise<RevocationFeed> {
    let closing = false;
    let sub: SingleRedis;
    // On a cluster, the probe's own channel (one per feed): see clusterProbe.
    const probeChannel = this.probePrefix + randomBytes(9).toString('base64url');
    const echoes = new Map<string, () => void>();
    /** This connection is being replaced already (see probe). */
    let replacing = false;
    const attach = (): void => {
      try {
        sub = this.subscriberFactory();
      } catch {
        // No node known yet (a cluster still connecting): try again shortly.
        setTimeout(() => !closing && attach(), 500).unref();
        return;
      }
      const mine = sub;
      // The 'ready' handler below subscribes, and handles its failure. ioredis's own resubscription
      // does not: it rejects unhandled when the connection is closed between its ready check and
      // its answer (at shutdown, with Redis hung until then).
      mine.options.autoResubscribe = false;
      mine.on('message', (channel: string, message: string) => {
        // After unsubscribe the socket may still hold a message or two: the listener has left.
        if (closing) return;
        if (channel === probeChannel) return echoes.get(message)?.();
        if (channel !== this.channel) return;
        const e = decodeMessage(message);
        if (e) listener.onEntry(e);
      });
      // Subscribes on every (re)connect; the view then reloads.
      mine.on('ready', () => {
        replacing = false;
        (isCluster(this.redis) ? mine.subscribe(this.channel, probeChannel) : mine.subscribe(this.channel)).then(
          () => {
            if (!closing) listener.onConnected();
          },
          () => {
            if (!closing) listener.onDisconnected();
          },
        );
      });
      mine.on('close', () => {
        if (!closing) listener.onDisconnected();
      });
      // A connection that gives up (a cluster node's does, at once) is replaced by a new one,
      // from the factory: on a cluster, to a node that is up.
      mine.on('end', () => {
        if (!closing && sub === mine) setTimeout(() => !closing && sub === mine && attach(), 200).unref();
      });
      mine.connect().catch(() => listener.onDisconnected());
    };
    attach();
    return {
      // PING on the subscriber itself: Redis answers it after every message it received before it.
      probe: () =>
        redisCall<unknown>(() => (isCluster(this.redis) ? this.clusterProbe(this.redis, probeChannel, echoes) : sub.ping())).then(
          () => undefined,
          (e: unknown) => {
            // Open but silent (the command timed out): only a new connection can tell whether the
            // link is back; once per connection. Otherwise ioredis is reconnecting already.
            if (!closing && !replacing && sub.status === 'ready') {
              replacing = true;
              sub.disconnect(true);
            }
            throw e;
          },
        ),
      close: async () => {
        closing = true;
        sub?.disconnect();
      },
    };
  }

  /**
   * On a cluster a PING on the subscriber's node proves nothing about messages still on their way
   * from other nodes: each master PUBLISHes on the probe's channel, and the probe resolves when
   * every echo is back. A master forwards its messages to the subscriber's node over one link, in
   * order, and every add is published by the master of its shard: an echo from each master comes
   * after every entry added before the probe.
   */
  private clusterProbe(cluster: Cluster, probeChannel: string, echoes: Map<string, () => void>): Promise<void> {
    const masters = cluster.nodes('master');
    if (masters.length === 0) return Promise.reject(new Error('no cluster master known'));
    const nonce = randomBytes(9).toString('base64url');
    const tokens = masters.map((_, i) => `${nonce}:${i}`);
    let timer: NodeJS.Timeout | undefined;
    const heard = Promise.all(tokens.map((t) => new Promise<void>((resolve) => echoes.set(t, resolve))));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('probe echo timed out')), PROBE_TIMEOUT_MS);
    });
    const sent = Promise.all(masters.map((m, i) => m.publish(probeChannel, tokens[i])));
    return Promise.race([Promise.all([sent, heard]), timeout])
      .then(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        for (const t of tokens) echoes.delete(t);
      });
  }

  async ping(): Promise<void> {
    await redisCall(() => this.redis.ping());
  }
}
