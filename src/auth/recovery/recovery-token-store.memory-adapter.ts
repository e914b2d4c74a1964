import type { RecoveryPurpose } from './recovery-token.codec';
import type { RecoveryTokenStore, StoredRecoveryToken } from './recovery-token-store.port';

interface Entry extends StoredRecoveryToken {
  /** Wall-clock ms after which the entry is forgotten (the Redis TTL's counterpart). */
  readonly forgetAt: number;
}

/** Single-process adapter; every method completes without awaiting, so each is atomic here. */
export class MemoryRecoveryTokenStore implements RecoveryTokenStore {
  private readonly tokens = new Map<string, Entry>();
  private calls = 0;

  constructor(private readonly wallClock: () => number = Date.now) {}

  async issue(purpose: RecoveryPurpose, userId: string, token: StoredRecoveryToken, now: number): Promise<void> {
    this.sweep();
    const forgetAt = this.wallClock() + Math.max(1, token.expiresAt - now);
    this.tokens.set(keyOf(purpose, userId), { hash: Buffer.from(token.hash), expiresAt: token.expiresAt, forgetAt });
  }

  async find(purpose: RecoveryPurpose, userId: string, now: number): Promise<StoredRecoveryToken | null> {
    const e = this.live(keyOf(purpose, userId), now);
    return e ? { hash: Buffer.from(e.hash), expiresAt: e.expiresAt } : null;
  }

  async consume(purpose: RecoveryPurpose, userId: string, hash: Buffer, now: number): Promise<boolean> {
    const key = keyOf(purpose, userId);
    const e = this.live(key, now);
    if (!e || !e.hash.equals(hash)) return false;
    this.tokens.delete(key);
    return true;
  }

  private live(key: string, now: number): Entry | null {
    const e = this.tokens.get(key);
    return e && now < e.expiresAt && this.wallClock() < e.forgetAt ? e : null;
  }

  /** Bounded memory: drop forgotten entries every 1024 issues. */
  private sweep(): void {
    if (++this.calls % 1024 !== 0) return;
    const wall = this.wallClock();
    for (const [k, e] of this.tokens) if (e.forgetAt <= wall) this.tokens.delete(k);
  }
}

const keyOf = (purpose: RecoveryPurpose, userId: string): string => `${purpose}\0${userId}`;
