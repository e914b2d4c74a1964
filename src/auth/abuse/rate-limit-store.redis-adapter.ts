import type Redis from 'ioredis';
import { redisCall } from '../redis/redis-call.helper';
import type { RateLimitRecord, RateLimitStore } from './rate-limit-store.port';

/*
 *   auth:rl:{<name>:<key>}:h   hits (granted or refused) in the current window, PX = window
 *   auth:rl:{<name>:<key>}:b   present while blocked, PX = block duration
 *
 * KEYS: hits, block. ARGV: ttl, limit, blockDuration, wanted.
 * Grants up to `wanted` hits at once (a lease), never past the limit; the request at hand always
 * counts as one hit, so with wanted = 1 this is the plain fixed-window counter.
 * Returns {hits, pttl, blocked, blockPttl, granted}.
 */
const INCREMENT = `
local limit = tonumber(ARGV[2])
local wanted = tonumber(ARGV[4])
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
local grant = wanted
if before + wanted > limit then grant = math.max(1, limit - before) end
local hits = redis.call('INCRBY', KEYS[1], grant)
if hits == grant then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); pttl = tonumber(ARGV[1]) end
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {hits, pttl, 1, blocked, 0} end
if hits > limit then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, pttl, 1, tonumber(ARGV[3]), 0}
end
return {hits, pttl, 0, 0, grant}`;

type Scripted = Redis & { authRateLimit(...args: (string | number)[]): Promise<number[]> };

/** Largest lease, and the share of what is left in the window one lease may take (1/8). */
const MAX_LEASE = 64;
const LEASE_SHARE = 8;
/** Leases kept per instance; past this the map is cleared (unused grants then count as spent). */
const MAX_LEASES = 10_000;

interface Lease {
  /** Hits granted to this instance and not yet used. */
  left: number;
  /** The window's count in Redis when the lease was granted. */
  total: number;
  size: number;
  windowEndsAt: number;
  blockedUntil: number;
  /** A lease request in flight: concurrent hits on the key wait for it instead of each asking. */
  pending: Promise<unknown> | null;
}

/**
 * Shared fixed-window counters in Redis, taken in leases: a key that is hit again within its
 * window reserves several hits at once (1, 2, 4 … up to 64, never more than 1/8 of what is left
 * under the limit), which this instance then grants without a round trip. A client seen once per
 * window (the usual case) costs exactly one script call, as before.
 *
 * Never admits more than `limit` hits per window across all instances: every admitted hit was
 * reserved in Redis first. The price is the other way: hits reserved by one instance and not used
 * there count as spent, so a client that moves between instances may be refused early, by at most
 * one lease per instance. A block, once seen, is answered locally until it ends.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly redis: Scripted;
  private readonly leases = new Map<string, Lease>();
  private calls = 0;

  constructor(
    redis: Redis,
    private readonly prefix = 'auth:rl',
    private readonly wallClock: () => number = Date.now,
  ) {
    redis.defineCommand('authRateLimit', { numberOfKeys: 2, lua: INCREMENT });
    this.redis = redis as Scripted;
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, name: string): Promise<RateLimitRecord> {
    const id = `${name}:${key}`;
    if (++this.calls % 1024 === 0) this.sweep();
    for (;;) {
      const now = this.wallClock();
      const lease = this.leases.get(id);
      if (lease && lease.blockedUntil > now) return record(lease, now, true);
      const live = lease !== undefined && now < lease.windowEndsAt;
      if (live && lease.left > 0) {
        lease.left -= 1;
        return record(lease, now, false);
      }
      if (live && lease.pending) {
        await lease.pending.catch(() => undefined);
        continue;
      }
      const size = live ? Math.max(1, Math.min(MAX_LEASE, lease.size * 2, Math.floor((limit - lease.total) / LEASE_SHARE))) : 1;
      return this.takeLease(id, key, name, { ttl, limit, blockDuration, size }, live ? lease : undefined);
    }
  }

  private async takeLease(
    id: string,
    key: string,
    name: string,
    p: { ttl: number; limit: number; blockDuration: number; size: number },
    current: Lease | undefined,
  ): Promise<RateLimitRecord> {
    const base = `${this.prefix}:{${name}:${key}}`;
    const call = redisCall(() =>
      this.redis.authRateLimit(`${base}:h`, `${base}:b`, Math.max(1, Math.ceil(p.ttl)), p.limit, Math.max(1, Math.ceil(p.blockDuration)), p.size),
    );
    const waiting: Lease = current ?? { left: 0, total: 0, size: 0, windowEndsAt: Number.POSITIVE_INFINITY, blockedUntil: 0, pending: null };
    waiting.pending = call;
    if (!current) this.leases.set(id, waiting);
    let reply: number[];
    try {
      reply = await call;
    } catch (e) {
      if (!current) this.leases.delete(id);
      throw e;
    } finally {
      waiting.pending = null;
    }
    const [hits, pttl, blocked, blockPttl, granted] = reply;
    const now = this.wallClock();
    const lease: Lease = {
      left: Math.max(0, granted - 1),
      total: hits,
      size: p.size,
      windowEndsAt: now + pttl,
      blockedUntil: blocked === 1 ? now + blockPttl : 0,
      pending: null,
    };
    this.leases.set(id, lease);
    // This request's own hit is the first of the grant: its count is the one before the rest.
    return {
      totalHits: hits - lease.left,
      timeToExpire: Math.ceil(pttl / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: blocked === 1 ? Math.ceil(blockPttl / 1000) : 0,
    };
  }

  private sweep(): void {
    const now = this.wallClock();
    for (const [k, l] of this.leases) if (l.pending === null && l.windowEndsAt <= now && l.blockedUntil <= now) this.leases.delete(k);
    if (this.leases.size > MAX_LEASES) this.leases.clear();
  }
}

function record(lease: Lease, now: number, blocked: boolean): RateLimitRecord {
  return {
    totalHits: lease.total - lease.left,
    timeToExpire: Math.max(0, Math.ceil((lease.windowEndsAt - now) / 1000)),
    isBlocked: blocked,
    timeToBlockExpire: blocked ? Math.ceil((lease.blockedUntil - now) / 1000) : 0,
  };
}
