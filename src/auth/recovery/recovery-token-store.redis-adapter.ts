import type Redis from 'ioredis';
import { redisCall } from '../redis/redis-call.helper';
import type { RecoveryPurpose } from './recovery-token.codec';
import type { RecoveryTokenStore, StoredRecoveryToken } from './recovery-token-store.port';

/*
 *   auth:{<user id>}:rk:<purpose>   STRING "<expiresAt ms>:<hash base64url>"   PX = until expiresAt
 * The user's hash tag, like the rest of their state: one key per operation anyway.
 */

// KEYS: token. ARGV: hash (base64url), now. Deletes only the live token with this hash.
const CONSUME = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local sep = string.find(v, ':', 1, true)
if not sep or tonumber(ARGV[2]) >= tonumber(string.sub(v, 1, sep - 1)) or string.sub(v, sep + 1) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`;

type Scripted = Redis & { authRecoveryConsume(key: string, hash: string, now: number): Promise<number> };

export class RedisRecoveryTokenStore implements RecoveryTokenStore {
  private readonly redis: Scripted;

  constructor(redis: Redis, private readonly prefix = 'auth') {
    redis.defineCommand('authRecoveryConsume', { numberOfKeys: 1, lua: CONSUME });
    this.redis = redis as Scripted;
  }

  async issue(purpose: RecoveryPurpose, userId: string, token: StoredRecoveryToken, now: number): Promise<void> {
    const value = `${Math.floor(token.expiresAt)}:${token.hash.toString('base64url')}`;
    await redisCall(() => this.redis.set(this.key(purpose, userId), value, 'PX', Math.max(1, Math.ceil(token.expiresAt - now))));
  }

  async find(purpose: RecoveryPurpose, userId: string, now: number): Promise<StoredRecoveryToken | null> {
    const v = await redisCall(() => this.redis.get(this.key(purpose, userId)));
    const sep = v?.indexOf(':') ?? -1;
    if (v == null || sep < 0) return null;
    const expiresAt = Number(v.slice(0, sep));
    return now < expiresAt ? { hash: Buffer.from(v.slice(sep + 1), 'base64url'), expiresAt } : null;
  }

  async consume(purpose: RecoveryPurpose, userId: string, hash: Buffer, now: number): Promise<boolean> {
    return (await redisCall(() => this.redis.authRecoveryConsume(this.key(purpose, userId), hash.toString('base64url'), now))) === 1;
  }

  private key(purpose: RecoveryPurpose, userId: string): string {
    return `${this.prefix}:{${userId}}:rk:${purpose}`;
  }
}
