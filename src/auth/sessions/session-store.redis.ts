import type Redis from 'ioredis';
import { redisCall } from '../redis/redis-call.helper';
import type { NewSession, RotateCommand, RotateResult, SessionKind, SessionStore, SessionView } from './session.store';

/*
 * Key layout. Every key of one user shares the hash tag {<userId>}, so each script touches a
 * single Cluster slot. No KEYS/SCAN: the per-user index serves listing.
 *   auth:{u}:s:<sid>   HASH  k kind, c created, l last used, t auth_time, x absolute expiry,
 *                            i idle ttl, d device label, b binding hash,
 *                            h current secret hash, p previous hash, r rotated at
 *                      TTL = min(idle, absolute remaining)
 *   auth:{u}:g:<sid>   STRING sealed successor, PX = reuse grace
 *   auth:{u}:idx       ZSET sid -> absolute expiry; TTL = the longest absolute expiry
 *   auth:{u}:cut       STRING revoke-all cut-off (ms): sessions created before it are dead
 */
const CREATE = `
local c = tonumber(ARGV[3]); local x = tonumber(ARGV[5]); local i = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'k', ARGV[2], 'c', ARGV[3], 'l', ARGV[3], 't', ARGV[4], 'x', ARGV[5], 'i', ARGV[6], 'd', ARGV[7], 'b', ARGV[8], 'h', ARGV[9])
redis.call('PEXPIRE', KEYS[1], math.max(math.min(i, x - c), 1))
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
if redis.call('PTTL', KEYS[2]) < x - c then redis.call('PEXPIRE', KEYS[2], x - c) end
return 1`;

// KEYS: s, g, idx, cut. ARGV: presented, genuine, next, sealed, now, idleMs, graceMs, revokeAll, cutoffTtl, sid, kind,
//   binding, checkBinding, revokeOnMismatch
const ROTATE = `
local f = redis.call('HMGET', KEYS[1], 'h', 'p', 'r', 'c', 'l', 'x', 'i', 'k', 't', 'd', 'b')
if (not f[1]) or f[8] ~= ARGV[11] then return {'invalid'} end
local now = tonumber(ARGV[5])
local cut = redis.call('GET', KEYS[4])
if cut and tonumber(f[4]) < tonumber(cut) then
  redis.call('DEL', KEYS[1], KEYS[2]); redis.call('ZREM', KEYS[3], ARGV[10]); return {'invalid'}
end
if now >= tonumber(f[6]) or now >= tonumber(f[5]) + tonumber(f[7]) then
  redis.call('DEL', KEYS[1], KEYS[2]); redis.call('ZREM', KEYS[3], ARGV[10]); return {'expired'}
end
local current = f[1] == ARGV[1]
local sealed = false
if (not current) and f[2] and f[2] == ARGV[1] and now <= tonumber(f[3]) + tonumber(ARGV[7]) then
  sealed = redis.call('GET', KEYS[2])
end
if (current or sealed) and ARGV[13] == '1' and f[11] and f[11] ~= '' and f[11] ~= ARGV[12] then
  if ARGV[14] == '1' then
    redis.call('DEL', KEYS[1], KEYS[2]); redis.call('ZREM', KEYS[3], ARGV[10]); return {'binding_mismatch', '1'}
  end
  return {'binding_mismatch', '0'}
end
if current then
  redis.call('HSET', KEYS[1], 'h', ARGV[3], 'p', ARGV[1], 'r', ARGV[5], 'l', ARGV[5], 'i', ARGV[6])
  redis.call('PEXPIRE', KEYS[1], math.max(math.min(tonumber(ARGV[6]), tonumber(f[6]) - now), 1))
  if tonumber(ARGV[7]) > 0 then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[7]) else redis.call('DEL', KEYS[2]) end
  return {'rotated', f[8], f[4], ARGV[5], f[9], f[6], f[10], f[11]}
end
if sealed then return {'grace', f[8], f[4], f[5], f[9], f[6], f[10], f[11], sealed} end
if ARGV[2] ~= '1' then return {'invalid'} end
redis.call('DEL', KEYS[1], KEYS[2]); redis.call('ZREM', KEYS[3], ARGV[10])
if ARGV[8] == '1' then
  local prev = redis.call('GET', KEYS[4])
  if (not prev) or tonumber(prev) < now then redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[9])
  else redis.call('PEXPIRE', KEYS[4], ARGV[9]) end
  redis.call('DEL', KEYS[3])
  return {'reused', '1'}
end
return {'reused', '0'}`;

// KEYS: s, g, idx, cut. ARGV: sid. 1 only when a live session (not already cut off) was removed.
const REVOKE = `
local c = redis.call('HGET', KEYS[1], 'c')
local cut = redis.call('GET', KEYS[4])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
if c and not (cut and tonumber(c) < tonumber(cut)) then return 1 end
return 0`;

// KEYS: cut, idx. ARGV: cutoff, ttl
const REVOKE_ALL = `
local prev = redis.call('GET', KEYS[1])
if (not prev) or tonumber(prev) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('DEL', KEYS[2])
return 1`;

type Scripted = Redis & {
  authSessionCreate(...args: (string | Buffer | number)[]): Promise<number>;
  authSessionRotateBuffer(...args: (string | Buffer | number)[]): Promise<Buffer[]>;
  authSessionRevoke(...args: string[]): Promise<number>;
  authSessionRevokeAll(...args: (string | number)[]): Promise<number>;
};

const KIND_CODE: Record<SessionKind, string> = { api: 'a', browser: 'b' };
const VIEW_FIELDS = ['k', 'c', 'l', 't', 'x', 'd', 'b'] as const;

export class RedisSessionStore implements SessionStore {
  private readonly redis: Scripted;

  constructor(redis: Redis, private readonly prefix = 'auth') {
    redis.defineCommand('authSessionCreate', { numberOfKeys: 2, lua: CREATE });
    redis.defineCommand('authSessionRotate', { numberOfKeys: 4, lua: ROTATE });
    redis.defineCommand('authSessionRevoke', { numberOfKeys: 4, lua: REVOKE });
    redis.defineCommand('authSessionRevokeAll', { numberOfKeys: 2, lua: REVOKE_ALL });
    this.redis = redis as Scripted;
  }

  async create(s: NewSession): Promise<void> {
    await redisCall(() =>
      this.redis.authSessionCreate(
        this.sessionKey(s.userId, s.sid),
        this.indexKey(s.userId),
        s.sid,
        KIND_CODE[s.kind],
        s.createdAt,
        s.authTime,
        s.absoluteExpiresAt,
        s.idleTtlMs,
        s.deviceLabel,
        s.bindingHash,
        s.secretHash,
      ),
    );
  }

  async rotate(cmd: RotateCommand): Promise<RotateResult> {
    const r = await redisCall(() =>
      this.redis.authSessionRotateBuffer(
        this.sessionKey(cmd.userId, cmd.sid),
        this.successorKey(cmd.userId, cmd.sid),
        this.indexKey(cmd.userId),
        this.cutKey(cmd.userId),
        cmd.presentedHash,
        cmd.genuine ? '1' : '0',
        cmd.nextHash,
        cmd.sealedSuccessor,
        cmd.now,
        cmd.idleTtlMs,
        cmd.graceMs,
        cmd.revokeAllOnReuse ? '1' : '0',
        Math.max(1, Math.ceil(cmd.cutoffTtlMs)),
        cmd.sid,
        KIND_CODE[cmd.kind],
        cmd.bindingHash ?? '',
        cmd.bindingHash === null ? '0' : '1',
        cmd.revokeOnBindingMismatch ? '1' : '0',
      ),
    );
    const kind = r[0].toString();
    const view = (): SessionView => ({
      userId: cmd.userId,
      sid: cmd.sid,
      kind: r[1].toString() === 'b' ? 'browser' : 'api',
      createdAt: Number(r[2]),
      lastUsedAt: Number(r[3]),
      authTime: Number(r[4]),
      absoluteExpiresAt: Number(r[5]),
      deviceLabel: r[6].toString(),
      bindingHash: r[7].toString(),
    });
    switch (kind) {
      case 'rotated':
        return { kind, session: view() };
      case 'grace':
        return { kind, session: view(), sealedSuccessor: r[8] };
      case 'reused':
        return { kind, revokedAll: r[1].toString() === '1' };
      case 'binding_mismatch':
        return { kind, revoked: r[1].toString() === '1' };
      case 'expired':
        return { kind };
      default:
        return { kind: 'invalid' };
    }
  }

  async get(userId: string, sid: string, now: number): Promise<SessionView | null> {
    const [fields, cut] = await redisCall(() =>
      Promise.all([this.redis.hmget(this.sessionKey(userId, sid), 'i', ...VIEW_FIELDS), this.redis.get(this.cutKey(userId))]),
    );
    return this.toView(userId, sid, fields, cut, now);
  }

  async listByUser(userId: string, now: number): Promise<SessionView[]> {
    const sids = await redisCall(() => this.redis.zrangebyscore(this.indexKey(userId), now, '+inf'));
    if (sids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const sid of sids) pipeline.hmget(this.sessionKey(userId, sid), 'i', ...VIEW_FIELDS);
    pipeline.get(this.cutKey(userId));
    const results = await redisCall(() => pipeline.exec());
    const cut = (results?.[sids.length]?.[1] as string | null) ?? null;
    const out: SessionView[] = [];
    const gone: string[] = [];
    sids.forEach((sid, i) => {
      const v = this.toView(userId, sid, (results?.[i]?.[1] as (string | null)[]) ?? [], cut, now);
      if (v) out.push(v);
      else gone.push(sid);
    });
    // Index entries whose session expired by idle TTL: tidy them while we are here.
    if (gone.length) await redisCall(() => this.redis.zrem(this.indexKey(userId), ...gone));
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }

  async revoke(userId: string, sid: string): Promise<boolean> {
    const n = await redisCall(() =>
      this.redis.authSessionRevoke(
        this.sessionKey(userId, sid),
        this.successorKey(userId, sid),
        this.indexKey(userId),
        this.cutKey(userId),
        sid,
      ),
    );
    return n > 0;
  }

  async revokeAll(userId: string, cutoff: number, cutoffTtlMs: number): Promise<void> {
    await redisCall(() =>
      this.redis.authSessionRevokeAll(this.cutKey(userId), this.indexKey(userId), cutoff, Math.max(1, Math.ceil(cutoffTtlMs))),
    );
  }

  async ping(): Promise<void> {
    await redisCall(() => this.redis.ping());
  }

  private sampled: { at: number; value: number | null } = { at: 0, value: null };

  async approximateSize(): Promise<number | null> {
    if (Date.now() - this.sampled.at < 15_000) return this.sampled.value;
    const info = await redisCall(() => this.redis.info('keyspace'));
    const db = (this.redis.options.db ?? 0) as number;
    const m = new RegExp(`^db${db}:keys=(\\d+)`, 'm').exec(info);
    this.sampled = { at: Date.now(), value: m ? Number(m[1]) : 0 };
    return this.sampled.value;
  }

  private toView(userId: string, sid: string, f: (string | null)[], cut: string | null, now: number): SessionView | null {
    const [idle, k, c, l, t, x, d, b] = f;
    if (k === null || k === undefined) return null;
    const createdAt = Number(c);
    const lastUsedAt = Number(l);
    const absoluteExpiresAt = Number(x);
    if (cut !== null && createdAt < Number(cut)) return null;
    if (now >= absoluteExpiresAt || now >= lastUsedAt + Number(idle)) return null;
    return {
      userId,
      sid,
      kind: k === 'b' ? 'browser' : 'api',
      createdAt,
      lastUsedAt,
      authTime: Number(t),
      absoluteExpiresAt,
      deviceLabel: d ?? '',
      bindingHash: b ?? '',
    };
  }

  private sessionKey(userId: string, sid: string): string {
    return `${this.prefix}:{${userId}}:s:${sid}`;
  }
  private successorKey(userId: string, sid: string): string {
    return `${this.prefix}:{${userId}}:g:${sid}`;
  }
  private indexKey(userId: string): string {
    return `${this.prefix}:{${userId}}:idx`;
  }
  private cutKey(userId: string): string {
    return `${this.prefix}:{${userId}}:cut`;
  }
}
