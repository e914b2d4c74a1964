import { randomUUID } from 'node:crypto';
import type { RateLimitStore } from '../../src/auth/abuse/rate-limit-store.port';
import { useFixture } from './contract-fixture';

export interface RateLimitStoreFixture {
  store: RateLimitStore;
  /** Another instance's adapter over the same shared state (the same object for a single-process store). */
  peer(): RateLimitStore;
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

    it('peek tells a block without counting a hit', async () => {
      const key = randomUUID();
      expect(await store().peek(key, 'failures')).toEqual({ isBlocked: false, timeToBlockExpire: 0 });
      await store().increment(key, 60_000, 1, 30_000, 'failures');
      expect(await store().peek(key, 'failures')).toEqual({ isBlocked: false, timeToBlockExpire: 0 });
      expect(await store().peek(key, 'failures')).toEqual({ isBlocked: false, timeToBlockExpire: 0 });
      // Peeks counted nothing: the second hit is the first past the limit.
      expect((await store().increment(key, 60_000, 1, 30_000, 'failures')).totalHits).toBe(2);
      const blocked = await fixture().peer().peek(key, 'failures');
      expect(blocked.isBlocked).toBe(true);
      expect(blocked.timeToBlockExpire).toBeGreaterThan(25);
      expect(blocked.timeToBlockExpire).toBeLessThanOrEqual(30);
      expect((await store().peek(key, 'other-name')).isBlocked).toBe(false);
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

    it('concurrent hits are all counted: exactly the limit is admitted, each with its own count', async () => {
      const key = randomUUID();
      const rs = await Promise.all(Array.from({ length: 25 }, () => store().increment(key, 60_000, 10, 60_000, 'login')));
      const admitted = rs.filter((r) => !r.isBlocked);
      expect(admitted.map((r) => r.totalHits).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(rs.filter((r) => r.isBlocked)).toHaveLength(15);
    });

    it('a busy client gets exactly the limit, never more, across two instances sharing the store', async () => {
      const key = randomUUID();
      const limit = 200;
      const [a, b] = [store(), fixture().peer()];
      let admitted = 0;
      for (let i = 0; i < 40; i++) {
        // Bursts of 10 concurrent hits, alternating instances.
        const rs = await Promise.all(Array.from({ length: 10 }, (_, j) => ((i + j) % 2 === 0 ? a : b).increment(key, 60_000, limit, 60_000, 'refresh')));
        admitted += rs.filter((r) => !r.isBlocked).length;
      }
      expect(admitted).toBe(limit);
      expect((await a.increment(key, 60_000, limit, 60_000, 'refresh')).isBlocked).toBe(true);
      expect((await b.increment(key, 60_000, limit, 60_000, 'refresh')).isBlocked).toBe(true);
    });

    it('a client that moves to another instance keeps its count there', async () => {
      const key = randomUUID();
      const limit = 50;
      const [a, b] = [store(), fixture().peer()];
      for (let i = 0; i < 20; i++) expect((await a.increment(key, 60_000, limit, 60_000, 'refresh')).isBlocked).toBe(false);
      let onB = 0;
      while (!(await b.increment(key, 60_000, limit, 60_000, 'refresh')).isBlocked) onB++;
      expect(20 + onB).toBe(limit);
    });
  });
}
