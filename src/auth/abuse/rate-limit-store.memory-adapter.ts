import type { RateLimitRecord, RateLimitStore } from './rate-limit-store.port';

interface Window {
  hits: number;
  expiresAt: number;
  blockedUntil: number;
}

/** Single-process adapter (no timers: entries expire lazily, swept every 1024 calls). */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, Window>();
  private calls = 0;

  constructor(private readonly wallClock: () => number = Date.now) {}

  async peek(key: string, name: string): Promise<{ isBlocked: boolean; timeToBlockExpire: number }> {
    const now = this.wallClock();
    const w = this.windows.get(`${name}\0${key}`);
    return w && w.blockedUntil > now
      ? { isBlocked: true, timeToBlockExpire: Math.ceil((w.blockedUntil - now) / 1000) }
      : { isBlocked: false, timeToBlockExpire: 0 };
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, name: string): Promise<RateLimitRecord> {
    const now = this.wallClock();
    if (++this.calls % 1024 === 0) {
      for (const [k, w] of this.windows) if (w.expiresAt <= now && w.blockedUntil <= now) this.windows.delete(k);
    }
    const id = `${name}\0${key}`;
    let w = this.windows.get(id);
    if (!w || (w.expiresAt <= now && w.blockedUntil <= now)) {
      w = { hits: 0, expiresAt: now + ttl, blockedUntil: 0 };
      this.windows.set(id, w);
    } else if (w.expiresAt <= now) {
      w.hits = 0;
      w.expiresAt = now + ttl;
    }
    w.hits += 1;
    if (w.blockedUntil <= now && w.hits > limit) w.blockedUntil = now + blockDuration;
    const blocked = w.blockedUntil > now;
    return {
      totalHits: w.hits,
      timeToExpire: Math.ceil((w.expiresAt - now) / 1000),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? Math.ceil((w.blockedUntil - now) / 1000) : 0,
    };
  }
}
