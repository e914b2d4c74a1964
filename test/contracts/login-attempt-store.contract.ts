import { randomUUID } from 'node:crypto';
import type { AttemptKeys, LockoutPolicy, LoginAttemptStore } from '../../src/auth/abuse/login-attempt-store.port';
import { useFixture } from './contract-fixture';

export interface LoginAttemptStoreFixture {
  store: LoginAttemptStore;
  cleanup(): Promise<void>;
}

const SECOND = 1000;
export const POLICY: LockoutPolicy = {
  sourceFree: 3,
  sourceBaseDelayMs: 2 * SECOND,
  accountFree: 5,
  accountBaseDelayMs: 1 * SECOND,
  maxDelayMs: 60 * SECOND,
  accountHardCap: 12,
  decayMs: 60 * 60 * SECOND,
  trustedSourceMs: 24 * 60 * 60 * SECOND,
};

function keys(account = randomUUID(), source = randomUUID()): AttemptKeys {
  return { account, source };
}

/** The behaviour both LoginAttemptStore adapters share. Time is the `now` each call is given. */
export function loginAttemptStoreContract(name: string, factory: () => Promise<LoginAttemptStoreFixture>): void {
  describe(`LoginAttemptStore contract: ${name}`, () => {
    const fixture = useFixture(factory);
    const store = (): LoginAttemptStore => fixture().store;
    let t0: number;
    beforeEach(() => {
      t0 = Date.now();
    });

    it('counts each allowed attempt; the first `sourceFree` are free, then the source waits a doubling delay', async () => {
      const k = keys();
      for (let i = 1; i <= POLICY.sourceFree; i++) {
        expect(await store().begin(k, t0, POLICY)).toEqual({ allowed: true, accountFailures: i, sourceFailures: i });
      }
      expect(await store().begin(k, t0 + 1, POLICY)).toEqual({ allowed: false, reason: 'source', retryAt: t0 + 2 * SECOND });
      const at = t0 + 2 * SECOND;
      expect((await store().begin(k, at, POLICY)).allowed).toBe(true);
      // 4 failures: the next delay is 4 s after the last one.
      expect(await store().begin(k, at + 3 * SECOND, POLICY)).toEqual({ allowed: false, reason: 'source', retryAt: at + 4 * SECOND });
      expect((await store().begin(k, at + 4 * SECOND, POLICY)).allowed).toBe(true);
    });

    it('a delay on one source does not touch another source of the same account (below the account threshold)', async () => {
      const account = randomUUID();
      const attacker = keys(account);
      for (let i = 0; i < POLICY.sourceFree; i++) await store().begin(attacker, t0, POLICY);
      expect((await store().begin(attacker, t0 + 1, POLICY)).allowed).toBe(false);
      expect((await store().begin(keys(account), t0 + 1, POLICY)).allowed).toBe(true);
    });

    it('delays never exceed maxDelayMs', async () => {
      const k = keys();
      let now = t0;
      for (let i = 0; i < 10; i++) {
        const d = await store().begin(k, now, { ...POLICY, accountHardCap: 1000, accountFree: 1000 });
        if (!d.allowed) {
          expect(d.retryAt - now).toBeLessThanOrEqual(POLICY.maxDelayMs);
          now = d.retryAt;
          expect((await store().begin(k, now, { ...POLICY, accountHardCap: 1000, accountFree: 1000 })).allowed).toBe(true);
        }
      }
    });

    it('rotating sources: the account counter applies delays to every untrusted source', async () => {
      const account = randomUUID();
      for (let i = 0; i < POLICY.accountFree; i++) expect((await store().begin(keys(account), t0, POLICY)).allowed).toBe(true);
      expect(await store().begin(keys(account), t0 + 1, POLICY)).toEqual({ allowed: false, reason: 'account', retryAt: t0 + SECOND });
      expect((await store().begin(keys(account), t0 + SECOND, POLICY)).allowed).toBe(true);
    });

    it('a success resets both counters and makes that source skip the account-wide delay (not its own)', async () => {
      const account = randomUUID();
      const victim = keys(account);
      expect((await store().begin(victim, t0, POLICY)).allowed).toBe(true);
      await store().succeeded(victim, t0, POLICY);
      for (let i = 0; i < POLICY.accountFree; i++) await store().begin(keys(account), t0 + 10, POLICY);
      expect((await store().begin(keys(account), t0 + 11, POLICY)).allowed).toBe(false);
      // The trusted source is not held by the account-wide delay.
      expect(await store().begin(victim, t0 + 11, POLICY)).toEqual({ allowed: true, accountFailures: POLICY.accountFree + 1, sourceFailures: 1 });
      await store().succeeded(victim, t0 + 12, POLICY);
      expect(await store().begin(keys(account), t0 + 13, POLICY)).toEqual({ allowed: true, accountFailures: 1, sourceFailures: 1 });
    });

    it(`the hard cap: after accountHardCap consecutive failures no further attempt is allowed, even from a trusted source, until the decay`, async () => {
      const account = randomUUID();
      const trusted = keys(account);
      await store().succeeded(trusted, t0, POLICY);
      let now = t0;
      let counted = 0;
      for (let guard = 0; guard < 200 && counted < POLICY.accountHardCap; guard++) {
        const d = await store().begin(keys(account), now, POLICY);
        if (d.allowed) counted = d.accountFailures;
        else now = d.retryAt;
      }
      expect(counted).toBe(POLICY.accountHardCap);
      const last = now;
      const refused = await store().begin(trusted, last + POLICY.maxDelayMs, POLICY);
      expect(refused).toEqual({ allowed: false, reason: 'cap', retryAt: last + POLICY.decayMs });
      expect((await store().begin(keys(account), last + POLICY.decayMs - 1, POLICY)).allowed).toBe(false);
      // Never forever: decayMs after the last counted failure the counter starts again.
      expect(await store().begin(trusted, last + POLICY.decayMs, POLICY)).toEqual({ allowed: true, accountFailures: 1, sourceFailures: 1 });
    });

    it('counters decay decayMs after the last failure (by the clock the caller passes)', async () => {
      const k = keys();
      for (let i = 0; i < POLICY.sourceFree; i++) await store().begin(k, t0, POLICY);
      expect((await store().begin(k, t0 + 1, POLICY)).allowed).toBe(false);
      expect(await store().begin(k, t0 + POLICY.decayMs, POLICY)).toEqual({ allowed: true, accountFailures: 1, sourceFailures: 1 });
    });

    it('counters of different accounts are independent', async () => {
      const source = randomUUID();
      for (let i = 0; i < POLICY.sourceFree; i++) await store().begin(keys(randomUUID(), source), t0, POLICY);
      expect((await store().begin(keys(randomUUID(), source), t0, POLICY)).allowed).toBe(true);
    });

    it('concurrent attempts: never more allowed than the free budget (no read-then-write window)', async () => {
      const k = keys();
      const results = await Promise.all(Array.from({ length: 20 }, () => store().begin(k, t0, POLICY)));
      expect(results.filter((r) => r.allowed)).toHaveLength(POLICY.sourceFree);
    });
  });
}
