import type SingleRedis from 'ioredis';
import type { RedisClient as Redis } from '../redis/redis-connection.factory';
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

  /** subscriberFactory: a single-server connection (a cluster's: to one node), closed by this store. */
  constructor(redis: Redis, private readonly subscriberFactory: () => SingleRedis, prefix = 'auth') {
    redis.defineCommand('authRevocationAdd', { numberOfKeys: 1, lua: ADD });
    this.redis = redis as Scripted;
    this.keys = Array.from({ length: REVOCATION_SHARDS }, (_, i) => `${prefix}:revoked:{${i}}`);
    // The single key of earlier builds, read until its entries (one access-token lifetime) are gone.
    this.keys.push(`${prefix}:revoked`);
    this.channel = `${prefix}:revoked`;
  }

  async add(entry: RevocationEntry, now: number): Promise<void> {
    const { member, message } = encodeEntry(entry);
    await redisCall(() => this.redis.authRevocationAdd(this.keys[shardOf(member)], member, entry.expiresAt, now, this.channel, message));
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
        if (closing || channel !== this.channel) return;
        const e = decodeMessage(message);
        if (e) listener.onEntry(e);
      });
      // Subscribes on every (re)connect; the view then reloads.
      mine.on('ready', () => {
        replacing = false;
        mine.subscribe(this.channel).then(
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
        redisCall(() => sub.ping()).then(
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

  async ping(): Promise<void> {
    await redisCall(() => this.redis.ping());
  }
}
