import type Redis from 'ioredis';
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

/**
 * One sorted set (member -> expiry) holds the whole list: it is small by construction (entries
 * live one access-token lifetime) and is read in full only at start and on reconnect.
 */
export class RedisRevocationStore implements RevocationStore {
  private readonly redis: Scripted;
  private readonly key: string;
  private readonly channel: string;

  constructor(redis: Redis, private readonly subscriberFactory: () => Redis, prefix = 'auth') {
    redis.defineCommand('authRevocationAdd', { numberOfKeys: 1, lua: ADD });
    this.redis = redis as Scripted;
    this.key = `${prefix}:revoked`;
    this.channel = `${prefix}:revoked`;
  }

  async add(entry: RevocationEntry, now: number): Promise<void> {
    const { member, message } = encodeEntry(entry);
    await redisCall(() => this.redis.authRevocationAdd(this.key, member, entry.expiresAt, now, this.channel, message));
  }

  async snapshot(now: number): Promise<RevocationEntry[]> {
    const flat = await redisCall(() => this.redis.zrangebyscore(this.key, `(${now}`, '+inf', 'WITHSCORES'));
    const out: RevocationEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const e = decodeMember(flat[i], Number(flat[i + 1]));
      if (e) out.push(e);
    }
    return out;
  }

  async subscribe(listener: RevocationListener): Promise<RevocationFeed> {
    const sub = this.subscriberFactory();
    // The 'ready' handler below subscribes, and handles its failure. ioredis's own resubscription
    // does not: it rejects unhandled when the connection is closed between its ready check and
    // its answer (at shutdown, with Redis hung until then).
    sub.options.autoResubscribe = false;
    let closing = false;
    /** This connection is being replaced already (see probe). */
    let replacing = false;
    sub.on('message', (channel: string, message: string) => {
      // After unsubscribe the socket may still hold a message or two: the listener has left.
      if (closing || channel !== this.channel) return;
      const e = decodeMessage(message);
      if (e) listener.onEntry(e);
    });
    // Subscribes on every (re)connect; the view then reloads.
    sub.on('ready', () => {
      replacing = false;
      sub.subscribe(this.channel).then(
        () => {
          if (!closing) listener.onConnected();
        },
        () => {
          if (!closing) listener.onDisconnected();
        },
      );
    });
    sub.on('close', () => {
      if (!closing) listener.onDisconnected();
    });
    sub.connect().catch(() => listener.onDisconnected());
    return {
      // PING on the subscriber itself: Redis answers it after every message published before it.
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
        sub.disconnect();
      },
    };
  }

  async ping(): Promise<void> {
    await redisCall(() => this.redis.ping());
  }
}
