import { randomBytes, randomUUID } from 'node:crypto';
import type { RecoveryTokenStore } from '../../src/auth/recovery/recovery-token-store.port';
import { useFixture } from './contract-fixture';

export interface RecoveryTokenStoreFixture {
  store: RecoveryTokenStore;
  cleanup(): Promise<void>;
}

const MINUTE = 60_000;
const hash = (): Buffer => randomBytes(32);

/** The behaviour both RecoveryTokenStore adapters share. Expiry is decided by the `now` each call is given. */
export function recoveryTokenStoreContract(name: string, factory: () => Promise<RecoveryTokenStoreFixture>): void {
  describe(`RecoveryTokenStore contract: ${name}`, () => {
    const fixture = useFixture(factory);
    const store = (): RecoveryTokenStore => fixture().store;
    let now: number;
    beforeEach(() => {
      now = Date.now();
    });

    it('finds an issued token, hash and expiry, until it expires', async () => {
      const user = randomUUID();
      const h = hash();
      await store().issue('reset-password', user, { hash: h, expiresAt: now + 30 * MINUTE }, now);
      expect(await store().find('reset-password', user, now)).toEqual({ hash: h, expiresAt: now + 30 * MINUTE });
      expect(await store().find('reset-password', user, now + 30 * MINUTE - 1)).not.toBeNull();
      expect(await store().find('reset-password', user, now + 30 * MINUTE)).toBeNull();
    });

    it('is consumed once: the first consume succeeds, every later one fails, and it is gone', async () => {
      const user = randomUUID();
      const h = hash();
      await store().issue('verify-email', user, { hash: h, expiresAt: now + MINUTE }, now);
      expect(await store().consume('verify-email', user, h, now)).toBe(true);
      expect(await store().consume('verify-email', user, h, now)).toBe(false);
      expect(await store().find('verify-email', user, now)).toBeNull();
    });

    it('of many concurrent consumes of one token, exactly one succeeds', async () => {
      const user = randomUUID();
      const h = hash();
      await store().issue('reset-password', user, { hash: h, expiresAt: now + MINUTE }, now);
      const results = await Promise.all(Array.from({ length: 20 }, () => store().consume('reset-password', user, h, now)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('a newer token replaces the older one: the older can no longer be consumed', async () => {
      const user = randomUUID();
      const [older, newer] = [hash(), hash()];
      await store().issue('reset-password', user, { hash: older, expiresAt: now + MINUTE }, now);
      await store().issue('reset-password', user, { hash: newer, expiresAt: now + 2 * MINUTE }, now + 1000);
      expect(await store().find('reset-password', user, now + 1000)).toEqual({ hash: newer, expiresAt: now + 2 * MINUTE });
      expect(await store().consume('reset-password', user, older, now + 1000)).toBe(false);
      expect(await store().consume('reset-password', user, newer, now + 1000)).toBe(true);
    });

    it('a consume with another hash fails and leaves the token usable', async () => {
      const user = randomUUID();
      const h = hash();
      await store().issue('reset-password', user, { hash: h, expiresAt: now + MINUTE }, now);
      expect(await store().consume('reset-password', user, hash(), now)).toBe(false);
      expect(await store().consume('reset-password', user, h, now)).toBe(true);
    });

    it('an expired token cannot be consumed', async () => {
      const user = randomUUID();
      const h = hash();
      await store().issue('reset-password', user, { hash: h, expiresAt: now + MINUTE }, now);
      expect(await store().consume('reset-password', user, h, now + MINUTE)).toBe(false);
    });

    it('users and purposes are independent; nothing issued is nothing found', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const h = hash();
      await store().issue('reset-password', a, { hash: h, expiresAt: now + MINUTE }, now);
      expect(await store().find('verify-email', a, now)).toBeNull();
      expect(await store().find('reset-password', b, now)).toBeNull();
      expect(await store().consume('verify-email', a, h, now)).toBe(false);
      expect(await store().consume('reset-password', b, h, now)).toBe(false);
      expect(await store().consume('reset-password', a, h, now)).toBe(true);
    });

    it('storage is bounded: a token is forgotten once its lifetime has passed in real time', async () => {
      const user = randomUUID();
      const h = hash();
      await store().issue('verify-email', user, { hash: h, expiresAt: now + 150 }, now);
      await new Promise((r) => setTimeout(r, 300));
      // Even a caller whose clock says it is still valid finds nothing: the storage bound has passed.
      expect(await store().find('verify-email', user, now)).toBeNull();
    });
  });
}
