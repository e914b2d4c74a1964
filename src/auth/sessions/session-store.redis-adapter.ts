import { isCluster, type RedisClient as Redis } from '../redis/redis-connection.factory';
import { redisCall } from '../redis/redis-call.helper';
import { replicatedWrite } from '../redis/replicated-write.helper';
import { sessionCreatedAt } from '../tokens/session-id.codec';
import { MAX_SESSIONS_PER_USER, type NewSession, type RotateCommand, type RotateResult, type SessionCredential, type SessionKind, type SessionStore, type SessionView } from './session-store.port';

/*
 * Key layout: ONE hash per user, which is both the sessions' storage and the per-user index.
 *   auth:{u}            HASH  <sid>   -> 60-byte packed record (see RECORD below)
 *                             <sid>:m -> "<binding hash>\0<device label>"
 *                             <sid>:g -> the current secret as sealed under the previous one
 *                                        (48 bytes, see RefreshTokenCodec.sealSuccessor), once rotated
 *                             !cut    -> revoke-all cut-off (ms): sessions created before it are dead
 *                       TTL = the latest live session's deadline (idle or absolute, whichever first)
 * Every value stays within Redis's compact listpack limit (64 bytes): past it a hash converts to
 * a hashtable and costs several times the memory (bytes per session: docs/performance.md).
 * Every key of a user shares the hash tag {u}; no KEYS or SCAN: a user's hash is their index.
 * A session's creation time is read from its id (see session-id.codec), so it is not stored.
 */
/*
 * RECORD, a session's packed value (struct '>c1I6I6I6I5I4c16c16', big-endian), with the names the
 * scripts give its fields:
 *   k  c1   kind: 'a' API session, 'b' browser session
 *   l  I6   last used, ms since the epoch (the creation time until first used)
 *   x  I6   absolute expiry, ms
 *   r  I6   when the secret was last rotated, ms (0: never)
 *   i  I5   idle timeout, ms
 *   t  I4   auth_time, s
 *   h  c16  the current secret's hash (first 128 bits of SHA-256)
 *   p  c16  the previous secret's hash (zeros before the first rotation)
 */
const RECORD_SIZE = 60;
const HASH_BYTES = 16; // first 128 bits of SHA-256(secret): preimage-resistant, half the memory
const META_MAX = 64;

const PRELUDE = `
local FMT = '>c1I6I6I6I5I4c16c16'
local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
local function dec(v)
  local k, l, x, r, i, t, h, p = struct.unpack(FMT, v)
  return { k = k, l = l, x = x, r = r, i = i, t = t, h = h, p = p }
end
local function enc(s) return struct.pack(FMT, s.k, s.l, s.x, s.r, s.i, s.t, s.h, s.p) end
local function created(sid)
  local n = 0
  for j = 1, 8 do n = n * 64 + (string.find(B64, string.sub(sid, j, j), 1, true) - 1) end
  return n
end
local function num(n) return string.format('%.0f', n) end
local function cutOf(key) return tonumber(redis.call('HGET', key, '!cut') or '0') end
local function extend(key, deadline, now)
  local want = deadline - now
  if want > 0 and redis.call('PTTL', key) < want then redis.call('PEXPIRE', key, num(want)) end
end
`;

// KEYS: u. ARGV: sid, record, meta, now, maxSessions. Prunes the user's dead sessions, ends the
// least recently used live one at the cap, records the new one. Returns the evicted sid or ''.
const CREATE = `${PRELUDE}
local now = tonumber(ARGV[4])
local cut = cutOf(KEYS[1])
local all = redis.call('HGETALL', KEYS[1])
local deadline = 0
local live, oldest, oldestUsed = 0, '', math.huge
for j = 1, #all, 2 do
  local f = all[j]
  if #f == 22 and #all[j + 1] == ${RECORD_SIZE} then
    local s = dec(all[j + 1])
    if now >= s.x or now >= s.l + s.i or created(f) < cut then
      redis.call('HDEL', KEYS[1], f, f .. ':m', f .. ':g')
    else
      live = live + 1
      if s.l < oldestUsed then oldest, oldestUsed = f, s.l end
      deadline = math.max(deadline, math.min(s.l + s.i, s.x))
    end
  end
end
local evicted = ''
if live >= tonumber(ARGV[5]) and oldest ~= '' then
  redis.call('HDEL', KEYS[1], oldest, oldest .. ':m', oldest .. ':g')
  evicted = oldest
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[1] .. ':m', ARGV[3])
local s = dec(ARGV[2])
extend(KEYS[1], math.max(deadline, math.min(s.l + s.i, s.x)), now)
return evicted`;

// KEYS: u. ARGV: sid, "<presented hash hex><next hash hex>", "<now>:<idleMs>:<flags>", binding,
//   sealed successor (48 bytes). flags: kind code, then genuine, revokeAll, checkBinding,
//   revokeOnMismatch as 1/0. Five arguments, and a text reply (the sealed successor in hex): no
//   Buffer mode for ioredis to decode.
// The previous secret gets the sealed successor for as long as that successor has not been used:
// a used successor has become the previous secret itself, so an older one never matches s.p.
const ROTATE = `${PRELUDE}
local sid = ARGV[1]
local v = redis.call('HGET', KEYS[1], sid)
if not v then return {'invalid'} end
local s = dec(v)
local nowS, idleS, flags = string.match(ARGV[3], '^(%d+):(%d+):(%a[01][01][01][01])$')
if not flags or #ARGV[2] ~= 64 or string.find(ARGV[2], '[^%x]') then return redis.error_reply('ERR rotate: bad arguments') end
if s.k ~= string.sub(flags, 1, 1) then return {'invalid'} end
local now = tonumber(nowS)
local genuine, revokeAll = string.sub(flags, 2, 2) == '1', string.sub(flags, 3, 3) == '1'
local checkBinding, revokeOnMismatch = string.sub(flags, 4, 4) == '1', string.sub(flags, 5, 5) == '1'
-- 32 hex digits as 16 bytes: four 32-bit words through one struct.pack, not a gsub with a Lua
-- callback per byte (Redis CPU per rotate: docs/performance.md).
local function unhex(h, i)
  return struct.pack('>I4I4I4I4', tonumber(string.sub(h, i, i + 7), 16), tonumber(string.sub(h, i + 8, i + 15), 16),
    tonumber(string.sub(h, i + 16, i + 23), 16), tonumber(string.sub(h, i + 24, i + 31), 16))
end
local presented = unhex(ARGV[2], 1)
if created(sid) < cutOf(KEYS[1]) then
  redis.call('HDEL', KEYS[1], sid, sid .. ':m', sid .. ':g'); return {'invalid'}
end
if now >= s.x or now >= s.l + s.i then
  redis.call('HDEL', KEYS[1], sid, sid .. ':m', sid .. ':g'); return {'expired'}
end
local meta = redis.call('HGET', KEYS[1], sid .. ':m') or ''
local current = s.h == presented
local previous = (not current) and s.r > 0 and s.p == presented
local sealed = false
if previous then sealed = redis.call('HGET', KEYS[1], sid .. ':g') end
-- Device binding: checked only for a secret that would rotate or get the replayed successor; an
-- older secret is reuse, whatever the device. A session recorded without a binding is never checked.
if (current or sealed) and checkBinding then
  local z = string.find(meta, '\0', 1, true)
  local binding = z and string.sub(meta, 1, z - 1) or ''
  if binding ~= '' and binding ~= ARGV[4] then
    if revokeOnMismatch then
      redis.call('HDEL', KEYS[1], sid, sid .. ':m', sid .. ':g'); return {'binding_mismatch', '1'}
    end
    return {'binding_mismatch', '0'}
  end
end
if current then
  s.p = s.h; s.h = unhex(ARGV[2], 33); s.r = now; s.l = now; s.i = tonumber(idleS)
  redis.call('HSET', KEYS[1], sid, enc(s), sid .. ':g', ARGV[5])
  extend(KEYS[1], math.min(s.l + s.i, s.x), now)
  return {'rotated', s.k, num(s.l), num(s.x), num(s.t), meta}
end
if sealed then
  return {'replayed', s.k, num(s.l), num(s.x), num(s.t), meta, string.format(string.rep('%02x', #sealed), string.byte(sealed, 1, -1))}
end
-- The previous secret without a sealed successor: rotated by an earlier build, which kept it for
-- a grace only. Nothing to give back, and not theft either.
if previous or not genuine then return {'invalid'} end
redis.call('HDEL', KEYS[1], sid, sid .. ':m', sid .. ':g')
if revokeAll then
  if cutOf(KEYS[1]) < now then redis.call('HSET', KEYS[1], '!cut', nowS) end
  return {'reused', '1'}
end
return {'reused', '0'}`;

// KEYS: u. ARGV: sid. 1 only when a live session (not already cut off) was removed.
const REVOKE = `${PRELUDE}
local v = redis.call('HGET', KEYS[1], ARGV[1])
local cut = cutOf(KEYS[1])
redis.call('HDEL', KEYS[1], ARGV[1], ARGV[1] .. ':m', ARGV[1] .. ':g')
if v and created(ARGV[1]) >= cut then return 1 end
return 0`;

// KEYS: u. ARGV: cutoff. One write: the dead sessions are pruned at the user's next login or expire.
const REVOKE_ALL = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if cutOf(KEYS[1]) < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], '!cut', ARGV[1]) end
return 1`;

// KEYS: u. ARGV: sid, now, idleMs. Marks a live session used and slides its idle timeout (never
// past its absolute expiry). 0, writing nothing, when the session is gone, expired or cut off.
const TOUCH = `${PRELUDE}
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local s = dec(v)
local now = tonumber(ARGV[2])
if created(ARGV[1]) < cutOf(KEYS[1]) or now >= s.x or now >= s.l + s.i then return 0 end
if now > s.l then s.l = now end
s.i = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], enc(s))
extend(KEYS[1], math.min(s.l + s.i, s.x), now)
return 1`;

type Arg = string | Buffer | number;
type Scripted = Redis & {
  authSessionCreate(...args: Arg[]): Promise<string>;
  authSessionRotate(...args: Arg[]): Promise<string[]>;
  authSessionRevoke(...args: Arg[]): Promise<number>;
  authSessionRevokeAll(...args: Arg[]): Promise<number>;
  authSessionTouch(...args: Arg[]): Promise<number>;
};

const KIND_CODE: Record<SessionKind, string> = { api: 'a', browser: 'b' };

interface Record_ {
  kind: SessionKind;
  lastUsedAt: number;
  absoluteExpiresAt: number;
  idleTtlMs: number;
  authTime: number;
}

function encodeRecord(s: NewSession): Buffer {
  const b = Buffer.alloc(RECORD_SIZE);
  b.write(KIND_CODE[s.kind], 0, 'latin1');
  b.writeUIntBE(s.createdAt, 1, 6);
  b.writeUIntBE(s.absoluteExpiresAt, 7, 6);
  b.writeUIntBE(0, 13, 6); // never rotated
  b.writeUIntBE(s.idleTtlMs, 19, 5);
  b.writeUInt32BE(s.authTime, 24);
  s.secretHash.copy(b, 28, 0, HASH_BYTES);
  return b; // previous hash: zeros (never matches a SHA-256 prefix in practice)
}

function decodeRecord(b: Buffer): Record_ {
  return {
    kind: b[0] === 0x62 ? 'browser' : 'api',
    lastUsedAt: b.readUIntBE(1, 6),
    absoluteExpiresAt: b.readUIntBE(7, 6),
    idleTtlMs: b.readUIntBE(19, 5),
    authTime: b.readUInt32BE(24),
  };
}

/** "<binding>\0<label>", the label shortened so the value stays listpack-sized. */
function encodeMeta(bindingHash: string, deviceLabel: string): Buffer {
  const binding = Buffer.from(bindingHash, 'utf8').subarray(0, 40);
  let label = Buffer.from(deviceLabel, 'utf8');
  const room = META_MAX - binding.length - 1;
  if (label.length > room) label = Buffer.from(label.subarray(0, room).toString('utf8').replace(/\uFFFD+$/, ''), 'utf8');
  return Buffer.concat([binding, Buffer.from([0]), label]);
}

/** "<binding>\0<label>" as text (the value is UTF-8: see encodeMeta), from a text or a Buffer reply. */
function decodeMeta(m: string | Buffer | null | undefined): { bindingHash: string; deviceLabel: string } {
  if (!m) return { bindingHash: '', deviceLabel: '' };
  const text = typeof m === 'string' ? m : m.toString('utf8');
  const z = text.indexOf('\0');
  return z < 0 ? { bindingHash: '', deviceLabel: text } : { bindingHash: text.slice(0, z), deviceLabel: text.slice(z + 1) };
}

export class RedisSessionStore implements SessionStore {
  private readonly redis: Scripted;
  private sizeSample: { at: number; value: number } | null = null;

  /** waitReplicas: replicas that must hold a revocation before it is acknowledged (see replicatedWrite). */
  constructor(redis: Redis, private readonly prefix = 'auth', private readonly waitReplicas = 0) {
    redis.defineCommand('authSessionCreate', { numberOfKeys: 1, lua: CREATE });
    redis.defineCommand('authSessionRotate', { numberOfKeys: 1, lua: ROTATE });
    redis.defineCommand('authSessionRevoke', { numberOfKeys: 1, lua: REVOKE });
    redis.defineCommand('authSessionRevokeAll', { numberOfKeys: 1, lua: REVOKE_ALL });
    redis.defineCommand('authSessionTouch', { numberOfKeys: 1, lua: TOUCH });
    this.redis = redis as Scripted;
  }

  async create(s: NewSession): Promise<{ readonly evicted: string | null }> {
    const evicted = await redisCall(() =>
      this.redis.authSessionCreate(
        this.userKey(s.userId),
        s.sid,
        encodeRecord(s),
        encodeMeta(s.bindingHash, s.deviceLabel),
        s.createdAt,
        MAX_SESSIONS_PER_USER,
      ),
    );
    return { evicted: evicted ? evicted : null };
  }

  async rotate(cmd: RotateCommand): Promise<RotateResult> {
    const flags =
      KIND_CODE[cmd.kind] +
      (cmd.genuine ? '1' : '0') +
      (cmd.revokeAllOnReuse ? '1' : '0') +
      (cmd.bindingHash === null ? '0' : '1') +
      (cmd.revokeOnBindingMismatch ? '1' : '0');
    const r = await redisCall(() =>
      this.redis.authSessionRotate(
        this.userKey(cmd.userId),
        cmd.sid,
        cmd.presentedHash.toString('hex', 0, HASH_BYTES) + cmd.nextHash.toString('hex', 0, HASH_BYTES),
        `${cmd.now}:${cmd.idleTtlMs}:${flags}`,
        cmd.bindingHash ?? '',
        cmd.sealedSuccessor,
      ),
    );
    const kind = r[0];
    const view = (): SessionView => ({
      userId: cmd.userId,
      sid: cmd.sid,
      kind: r[1] === 'b' ? 'browser' : 'api',
      createdAt: sessionCreatedAt(cmd.sid),
      lastUsedAt: Number(r[2]),
      authTime: Number(r[4]),
      absoluteExpiresAt: Number(r[3]),
      ...decodeMeta(r[5]),
    });
    switch (kind) {
      case 'rotated':
        return { kind, session: view() };
      case 'replayed':
        return { kind, session: view(), sealedSuccessor: Buffer.from(r[6], 'hex') };
      case 'reused':
        return { kind, revokedAll: r[1] === '1' };
      case 'binding_mismatch':
        return { kind, revoked: r[1] === '1' };
      case 'expired':
        return { kind };
      default:
        return { kind: 'invalid' };
    }
  }

  async get(userId: string, sid: string, now: number): Promise<SessionView | null> {
    const [rec, meta, cut] = await redisCall(() => this.redis.hmgetBuffer(this.userKey(userId), sid, `${sid}:m`, '!cut'));
    return this.toView(userId, sid, rec, meta, cut ? Number(cut.toString()) : 0, now);
  }

  async lookup(userId: string, sid: string, now: number): Promise<SessionCredential | null> {
    const [rec, meta, cut] = await redisCall(() => this.redis.hmgetBuffer(this.userKey(userId), sid, `${sid}:m`, '!cut'));
    const session = this.toView(userId, sid, rec, meta, cut ? Number(cut.toString()) : 0, now);
    return session && rec ? { session, secretHash: Buffer.from(rec.subarray(28, 28 + HASH_BYTES)) } : null;
  }

  async touch(userId: string, sid: string, now: number, idleTtlMs: number): Promise<boolean> {
    const n = await redisCall(() => this.redis.authSessionTouch(this.userKey(userId), sid, now, Math.max(1, Math.ceil(idleTtlMs))));
    return n > 0;
  }

  async listByUser(userId: string, now: number): Promise<SessionView[]> {
    const all = await redisCall(() => this.redis.hgetallBuffer(this.userKey(userId)));
    const cut = all['!cut'] ? Number(all['!cut'].toString()) : 0;
    const out: SessionView[] = [];
    for (const [field, value] of Object.entries(all)) {
      if (field.length !== 22 || value.length !== RECORD_SIZE) continue;
      const v = this.toView(userId, field, value, all[`${field}:m`], cut, now);
      if (v) out.push(v);
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }

  async revoke(userId: string, sid: string): Promise<boolean> {
    const n = await replicatedWrite<number>(this.redis, this.waitReplicas, 'authSessionRevoke', [this.userKey(userId), sid]);
    return n > 0;
  }

  async revokeAll(userId: string, cutoff: number): Promise<void> {
    await replicatedWrite(this.redis, this.waitReplicas, 'authSessionRevokeAll', [this.userKey(userId), cutoff]);
  }

  async ping(): Promise<void> {
    await redisCall(() => this.redis.ping());
  }

  /**
   * For the metrics gauge only: the keys of this Redis database (INFO keyspace, no SCAN), sampled
   * at most every 15 s. An upper bound on users with sessions (one key per user, plus anything
   * else sharing the database). On a cluster: the sum over every master (db 0, the only one).
   */
  async approximateSize(): Promise<number | null> {
    const now = Date.now();
    if (this.sizeSample && now - this.sizeSample.at < 15_000) return this.sizeSample.value;
    const r = this.redis;
    const infos = isCluster(r) ? await Promise.all(r.nodes('master').map((n) => redisCall(() => n.info('keyspace')))) : [await redisCall(() => r.info('keyspace'))];
    const db = isCluster(r) ? 0 : (r.options.db ?? 0);
    const re = new RegExp(`^db${db}:keys=(\\d+)`, 'm');
    this.sizeSample = { at: now, value: infos.reduce((sum, info) => sum + Number(re.exec(info)?.[1] ?? 0), 0) };
    return this.sizeSample.value;
  }

  private toView(userId: string, sid: string, rec: Buffer | null | undefined, meta: Buffer | null | undefined, cut: number, now: number): SessionView | null {
    if (!rec || rec.length !== RECORD_SIZE) return null;
    const r = decodeRecord(rec);
    const createdAt = sessionCreatedAt(sid);
    if (createdAt < cut || now >= r.absoluteExpiresAt || now >= r.lastUsedAt + r.idleTtlMs) return null;
    return {
      userId,
      sid,
      kind: r.kind,
      createdAt,
      lastUsedAt: r.lastUsedAt,
      authTime: r.authTime,
      absoluteExpiresAt: r.absoluteExpiresAt,
      ...decodeMeta(meta),
    };
  }

  private userKey(userId: string): string {
    return `${this.prefix}:{${userId}}`;
  }
}
