import type { Clock } from '../../src/auth';

/**
 * A Clock for the e2e suites (override the CLOCK provider with it). It follows real time plus an
 * offset that tests move forward, rather than standing still: a frozen clock would give a login
 * and a later revoke-all the same millisecond, which is not what happens in production and would
 * hide (or fake) cut-off bugs. Jumping forward is what expiry tests need; going back is refused.
 *
 * Redis' own key TTLs run on real time and are not affected: the session scripts compare the
 * `now` they are given, so expiry decisions follow this clock.
 */
export class FakeClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`FakeClock.advance: ${ms} is not a non-negative duration`);
    this.offsetMs += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }

  /** How far ahead of real time this clock runs. */
  get offset(): number {
    return this.offsetMs;
  }
}
