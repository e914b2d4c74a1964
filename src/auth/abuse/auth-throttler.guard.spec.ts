import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SkipThrottle, Throttle } from '@nestjs/throttler';
import type { AuthAudit } from '../observability/auth-audit.service';
import type { AuthSettings } from '../common/auth-settings';
import { AuthError, storeUnavailable } from '../errors/auth-error.model';
import { AuthThrottlerGuard } from './auth-throttler.guard';
import { MemoryRateLimitStore } from './rate-limit-store.memory-adapter';

class Routes {
  plain(): void {}
  @Throttle({ auth: { limit: 1, ttl: 60_000 } }) strict(): void {}
  @SkipThrottle({ auth: true }) skipped(): void {}
  @Throttle({ auth: { limit: () => 2, ttl: 60_000 } }) computed(): void {}
  @Throttle({ auth: { limit: 2, ttl: 60_000, getTracker: () => 'everyone' } }) shared(): void {}
}

@SkipThrottle({ auth: true })
class SkippedController {
  plain(): void {}
}

describe('AuthThrottlerGuard', () => {
  const MAX = 3;
  let guard: AuthThrottlerGuard;
  let recorded: string[];

  let store: MemoryRateLimitStore;

  beforeEach(async () => {
    recorded = [];
    const audit = { record: (event: string) => void recorded.push(event) } as unknown as AuthAudit;
    const options = { rateLimit: { windowSeconds: 60, max: MAX } } as AuthSettings;
    store = new MemoryRateLimitStore();
    guard = new AuthThrottlerGuard(options, store, new Reflector(), audit);
    // Nest calls this at module init (for guards used through @UseGuards too).
    await guard.onModuleInit();
  });

  function contextFor(cls: new () => object, method: string, ip = '203.0.113.7'): ExecutionContext {
    const req = { ip, headers: {}, route: { path: `/${method}` } };
    return {
      getType: () => 'http',
      getHandler: () => (cls.prototype as Record<string, unknown>)[method],
      getClass: () => cls,
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({ header: () => undefined }) }),
    } as unknown as ExecutionContext;
  }

  /** How many of n calls are let through before the first RATE_LIMITED. */
  async function admitted(cls: new () => object, method: string, n: number, ip?: string): Promise<number> {
    let ok = 0;
    for (let i = 0; i < n; i++) {
      try {
        if (await guard.canActivate(contextFor(cls, method, ip))) ok++;
      } catch (e) {
        expect(e).toBeInstanceOf(AuthError);
        expect((e as AuthError).code).toBe('RATE_LIMITED');
        return ok;
      }
    }
    return ok;
  }

  it('applies AUTH_RATE_LIMIT_MAX per client and route', async () => {
    expect(await admitted(Routes, 'plain', 10)).toBe(MAX);
    expect(await admitted(Routes, 'plain', 10)).toBe(0);
    expect(recorded.filter((e) => e === 'rate_limited')).toHaveLength(2);
    // Another client, and another route, have their own counters.
    expect(await admitted(Routes, 'plain', 10, '198.51.100.1')).toBe(MAX);
  });

  it('honours a route @Throttle override', async () => {
    expect(await admitted(Routes, 'strict', 5)).toBe(1);
  });

  it('honours @SkipThrottle on a route and on a controller', async () => {
    expect(await admitted(Routes, 'skipped', 20)).toBe(20);
    expect(await admitted(SkippedController, 'plain', 20)).toBe(20);
  });

  it("uses a route's own tracker: clients it does not tell apart share one counter", async () => {
    expect(await admitted(Routes, 'shared', 1, '198.51.100.1')).toBe(1);
    expect(await admitted(Routes, 'shared', 1, '198.51.100.2')).toBe(1);
    expect(await admitted(Routes, 'shared', 1, '198.51.100.3')).toBe(0);
  });

  it('counts IPv6 clients per /64, and an IPv4-mapped address as its IPv4 address', async () => {
    expect(await admitted(Routes, 'plain', 2, '2001:db8:1:2::a')).toBe(2);
    expect(await admitted(Routes, 'plain', 5, '2001:db8:1:2::b')).toBe(1);
    expect(await admitted(Routes, 'plain', 5, '2001:db8:1:3::a')).toBe(MAX);
    expect(await admitted(Routes, 'plain', 2, '::ffff:198.51.100.9')).toBe(2);
    expect(await admitted(Routes, 'plain', 5, '198.51.100.9')).toBe(1);
  });

  it('honours a limit computed per request', async () => {
    expect(await admitted(Routes, 'computed', 5)).toBe(2);
  });

  it('answers RATE_LIMITED with the rest of the block as Retry-After', async () => {
    await admitted(Routes, 'strict', 1);
    const refused = await guard.canActivate(contextFor(Routes, 'strict')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe('RATE_LIMITED');
    expect((refused as AuthError).options.retryAfter).toBeGreaterThan(55);
    expect((refused as AuthError).options.retryAfter).toBeLessThanOrEqual(60);
    expect(recorded).toEqual(['rate_limited']);
  });

  it('fails open when the counter store is unavailable, and only then', async () => {
    const increment = jest.spyOn(store, 'increment').mockRejectedValueOnce(storeUnavailable(new Error('down')));
    expect(await guard.canActivate(contextFor(Routes, 'plain'))).toBe(true);
    increment.mockRejectedValueOnce(new Error('a bug'));
    await expect(guard.canActivate(contextFor(Routes, 'plain'))).rejects.toThrow('a bug');
  });
});
