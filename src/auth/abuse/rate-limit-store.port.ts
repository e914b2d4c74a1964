import type { ThrottlerStorage } from '@nestjs/throttler';

/**
 * The rate-limit counter port: @nestjs/throttler's storage contract (fixed window per key, then
 * a block of `blockDuration`), with a Redis adapter shared by every instance and an in-memory one
 * for single-process mode. Durations in ms; the record's times are in whole seconds (as the
 * throttler expects, it sends them as Retry-After).
 */
export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

export type RateLimitRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export interface RateLimitStore extends ThrottlerStorage {
  /**
   * Whether `key` is blocked now, without counting a hit: the failed-attempt limiter asks before
   * the work it protects and counts only failures. Seconds as in the record.
   */
  peek(key: string, name: string): Promise<{ readonly isBlocked: boolean; readonly timeToBlockExpire: number }>;
}
