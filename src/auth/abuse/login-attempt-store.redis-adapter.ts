import type { RedisClient as Redis } from '../redis/redis-connection.factory';
import { redisCall } from '../redis/redis-call.helper';
import type { AttemptDecision, AttemptKeys, LockoutPolicy, LoginAttemptStore } from './login-attempt-store.port';

/*
 * Keys share the account's hash tag, so one script touches one Cluster slot:
 *   auth:lo:{<account>}:a            HASH n failures, a last failure (ms)          TTL decay
 *   auth:lo:{<account>}:s:<source>   HASH n failures, a last failure, t trusted-until  TTL max(decay, trust)
 * The decision mirrors decide() in login-attempt-store.port.ts.
 */
// KEYS: account, source. ARGV: now, sourceFree, sourceBase, accountFree, accountBase, maxDelay, cap, decay
const BEGIN = `
local now = tonumber(ARGV[1])
local a = redis.call('HMGET', KEYS[1], 'n', 'a')
local s = redis.call('HMGET', KEYS[2], 'n', 'a', 't')
local an, aat = tonumber(a[1] or '0'), tonumber(a[2] or '0')
local sn, sat, st = tonumber(s[1] or '0'), tonumber(s[2] or '0'), tonumber(s[3] or '0')
local maxd = tonumber(ARGV[6])
-- Decay by the caller's clock (the key TTL is only the storage bound).
local decay = tonumber(ARGV[8])
if an > 0 and now >= aat + decay then an = 0; redis.call('DEL', KEYS[1]) end
if sn > 0 and now >= sat + decay then sn = 0; redis.call('HSET', KEYS[2], 'n', 0) end
local function delay(n, free, base)
  if n < free then return 0 end
  return math.min(maxd, base * 2 ^ math.min(n - free, 30))
end
if an >= tonumber(ARGV[7]) then return {'cap', string.format('%.0f', aat + tonumber(ARGV[8]))} end
local sfree = tonumber(ARGV[2])
local suntil = sat + delay(sn, sfree, tonumber(ARGV[3]))
if sn >= sfree and now < suntil then return {'source', string.format('%.0f', suntil)} end
local afree = tonumber(ARGV[4])
local auntil = aat + delay(an, afree, tonumber(ARGV[5]))
if now >= st and an >= afree and now < auntil then return {'account', string.format('%.0f', auntil)} end
an = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'a', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[8])
sn = redis.call('HINCRBY', KEYS[2], 'n', 1)
redis.call('HSET', KEYS[2], 'a', ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[8]) then redis.call('PEXPIRE', KEYS[2], ARGV[8]) end
return {'ok', tostring(an), tostring(sn)}`;

// KEYS: account, source. ARGV: trustedUntil, trustMs
const SUCCEEDED = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'n', 0, 'a', 0, 't', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

type Scripted = Redis & {
  authAttemptBegin(...args: (string | number)[]): Promise<string[]>;
  authAttemptSucceeded(...args: (string | number)[]): Promise<number>;
};

export class RedisLoginAttemptStore implements LoginAttemptStore {
  private readonly redis: Scripted;

  constructor(redis: Redis, private readonly prefix = 'auth:lo') {
    redis.defineCommand('authAttemptBegin', { numberOfKeys: 2, lua: BEGIN });
    redis.defineCommand('authAttemptSucceeded', { numberOfKeys: 2, lua: SUCCEEDED });
    this.redis = redis as Scripted;
  }

  async begin(keys: AttemptKeys, now: number, p: LockoutPolicy): Promise<AttemptDecision> {
    const r = await redisCall(() =>
      this.redis.authAttemptBegin(
        this.accountKey(keys),
        this.sourceKey(keys),
        now,
        p.sourceFree,
        p.sourceBaseDelayMs,
        p.accountFree,
        p.accountBaseDelayMs,
        p.maxDelayMs,
        p.accountHardCap,
        Math.max(1, Math.ceil(p.decayMs)),
      ),
    );
    if (r[0] === 'ok') return { allowed: true, accountFailures: Number(r[1]), sourceFailures: Number(r[2]) };
    return { allowed: false, reason: r[0] as 'source' | 'account' | 'cap', retryAt: Number(r[1]) };
  }

  async succeeded(keys: AttemptKeys, now: number, p: LockoutPolicy): Promise<void> {
    await redisCall(() =>
      this.redis.authAttemptSucceeded(this.accountKey(keys), this.sourceKey(keys), now + p.trustedSourceMs, Math.max(1, Math.ceil(p.trustedSourceMs))),
    );
  }

  private accountKey(k: AttemptKeys): string {
    return `${this.prefix}:{${k.account}}:a`;
  }
  private sourceKey(k: AttemptKeys): string {
    return `${this.prefix}:{${k.account}}:s:${k.source}`;
  }
}
