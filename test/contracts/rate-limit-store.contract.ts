import { randomUUID } from 'node:crypto';
import type { RateLimitStore } from '../../src/auth/abuse/rate-limit.store';
import { useFixture } from './contract-fixture';

export interface RateLimitStoreFixture {
  store: RateLimitStore;
  cleanup(): Promise<void>;
}

/** Both adapters: a fixed window of `ttl` ms counting hits; past `limit`, blocked for `blockDuration`. */
export function rateLimitStoreContract(name: string, factory: () => Promise<RateLimitStoreFixture>): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    const fixture = useFixture(factory);
    const store = (): RateLimitStore => fixture().store;

    it('counts hits in the window; within the limit it is not blocked', async () => {
      const key = randomUUID();
      for (let i = 1; i <= 3; i++) {
        const r = await store().increment(key, 60_000, 3, 60_000, 'login');
        expect(r).toEqual({ totalHits: i, timeToExpire: expect.any(Number), isBlocked: false, timeToBlockExpire: 0 });
        expect(r.timeToExpire).toBeGreaterThan(55);
        expect(r.timeToExpire).toBeLessThanOrEqual(60);
      }
    });

    it('past the limit: blocked, with the block time in whole seconds', async () => {
      const key = randomUUID();
      for (let i = 0; i < 2; i++) await store().increment(key, 60_000, 2, 30_000, 'login');
      const r = await store().increment(key, 60_000, 2, 30_000, 'login');
      expect(r.isBlocked).toBe(true);
      expect(r.timeToBlockExpire).toBeGreaterThan(25);
      expect(r.timeToBlockExpire).toBeLessThanOrEqual(30);
      expect((await store().increment(key, 60_000, 2, 30_000, 'login')).isBlocked).toBe(true);
    });

    it('keys and throttler names are independent', async () => {
      const key = randomUUID();
      await store().increment(key, 60_000, 1, 60_000, 'login');
      expect((await store().increment(key, 60_000, 1, 60_000, 'login')).isBlocked).toBe(true);
      expect((await store().increment(key, 60_000, 1, 60_000, 'register')).isBlocked).toBe(false);
      expect((await store().increment(randomUUID(), 60_000, 1, 60_000, 'login')).isBlocked).toBe(false);
    });

    it('the window and the block end', async () => {
      const key = randomUUID();
      await store().increment(key, 200, 1, 200, 'login');
      expect((await store().increment(key, 200, 1, 200, 'login')).isBlocked).toBe(true);
      await new Promise((r) => setTimeout(r, 350));
      expect(await store().increment(key, 200, 1, 200, 'login')).toEqual(expect.objectContaining({ totalHits: 1, isBlocked: false }));
    });

    it('concurrent hits are all counted', async () => {
      const key = randomUUID();
      const rs = await Promise.all(Array.from({ length: 25 }, () => store().increment(key, 60_000, 10, 60_000, 'login')));
      expect(rs.filter((r) => !r.isBlocked)).toHaveLength(10);
      expect(Math.max(...rs.map((r) => r.totalHits))).toBe(25);
    });
  });
}
