import type { RedisClient as Redis } from '../redis/redis-connection.factory';
import { redisCall } from '../redis/redis-call.helper';
import type { RateLimitRecord, RateLimitStore } from './rate-limit-store.port';

/*
 *   auth:rl:{<name>:<key>}:h   hits (admitted or refused) in the current window, PX = window
 *   auth:rl:{<name>:<key>}:b   present while blocked, PX = block duration
 *
 * KEYS: hits, block. ARGV: ttl (ms), limit, blockDuration (ms).
 * Returns {hits, pttl, blocked, blockPttl}:
 *   hits       this window's count, this hit included
 *   pttl       ms left in the window
 *   blocked    1 while blocked (this hit refused), else 0
 *   blockPttl  ms left in the block (0 when not blocked)
 */
const INCREMENT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); pttl = tonumber(ARGV[1]) end
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {hits, pttl, 1, blocked} end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, pttl, 1, tonumber(ARGV[3])}
end
return {hits, pttl, 0, 0}`;

type Scripted = Redis & { authRateLimit(...args: (string | number)[]): Promise<number[]> };

/** Shared fixed-window counters in Redis: one script call per hit, atomic across instances. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    private readonly prefix = 'auth:rl',
  ) {
    redis.defineCommand('authRateLimit', { numberOfKeys: 2, lua: INCREMENT });
    this.redis = redis as Scripted;
  }

  async peek(key: string, name: string): Promise<{ isBlocked: boolean; timeToBlockExpire: number }> {
    const pttl = await redisCall(() => this.redis.pttl(`${this.base(key, name)}:b`));
    return pttl > 0 ? { isBlocked: true, timeToBlockExpire: Math.ceil(pttl / 1000) } : { isBlocked: false, timeToBlockExpire: 0 };
  }

  private base(key: string, name: string): string {
    return `${this.prefix}:{${name}:${key}}`;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, name: string): Promise<RateLimitRecord> {
    const base = this.base(key, name);
    const [hits, pttl, blocked, blockPttl] = await redisCall(() =>
      this.redis.authRateLimit(`${base}:h`, `${base}:b`, Math.max(1, Math.ceil(ttl)), limit, Math.max(1, Math.ceil(blockDuration))),
    );
    return {
      totalHits: hits,
      timeToExpire: Math.ceil(pttl / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: blocked === 1 ? Math.ceil(blockPttl / 1000) : 0,
    };
  }
}
