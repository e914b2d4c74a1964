import { decide, type AttemptDecision, type AttemptKeys, type LockoutPolicy, type LoginAttemptStore } from './login-attempt-store.port';

interface Counter {
  n: number;
  at: number;
  trustedUntil: number;
  /** Wall-clock ms after which the entry is forgotten (the Redis TTL's counterpart). */
  expiresAt: number;
}

/** Single-process adapter; every method completes without awaiting, so each is atomic here. */
export class MemoryLoginAttemptStore implements LoginAttemptStore {
  private readonly counters = new Map<string, Counter>();
  private sweeps = 0;

  constructor(private readonly wallClock: () => number = Date.now) {}

  async begin(keys: AttemptKeys, now: number, p: LockoutPolicy): Promise<AttemptDecision> {
    this.sweep();
    const account = this.read(`a\0${keys.account}`, now, p.decayMs);
    const source = this.read(`s\0${keys.account}\0${keys.source}`, now, p.decayMs);
    const blocked = decide(source, account, now, p);
    if (blocked) return { allowed: false, ...blocked };
    const wall = this.wallClock();
    account.n += 1;
    account.at = now;
    account.expiresAt = wall + p.decayMs;
    source.n += 1;
    source.at = now;
    source.expiresAt = Math.max(wall + p.decayMs, source.expiresAt);
    this.counters.set(`a\0${keys.account}`, account);
    this.counters.set(`s\0${keys.account}\0${keys.source}`, source);
    return { allowed: true, accountFailures: account.n, sourceFailures: source.n };
  }

  async succeeded(keys: AttemptKeys, now: number, p: LockoutPolicy): Promise<void> {
    this.counters.delete(`a\0${keys.account}`);
    this.counters.set(`s\0${keys.account}\0${keys.source}`, {
      n: 0,
      at: 0,
      trustedUntil: now + p.trustedSourceMs,
      expiresAt: this.wallClock() + p.trustedSourceMs,
    });
  }

  /** Entries currently held (tests, metrics). */
  get size(): number {
    return this.counters.size;
  }

  /** Decay by the caller's clock (`now`); the wall-clock expiry only bounds memory. */
  private read(key: string, now: number, decayMs: number): Counter {
    const c = this.counters.get(key);
    if (!c || c.expiresAt <= this.wallClock()) return { n: 0, at: 0, trustedUntil: 0, expiresAt: 0 };
    if (c.n > 0 && now >= c.at + decayMs) return { ...c, n: 0, at: 0 };
    return { ...c };
  }

  /** Bounded memory: drop expired entries every 1024 calls. */
  private sweep(): void {
    if (++this.sweeps % 1024 !== 0) return;
    const wall = this.wallClock();
    for (const [k, c] of this.counters) if (c.expiresAt <= wall) this.counters.delete(k);
  }
}
