import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { MAX_SESSIONS_PER_USER } from '../../src/auth/sessions/session-store.port';
import type { NewSession, RotateCommand, RotateResult, SessionKind, SessionStore, SessionView } from '../../src/auth/sessions/session-store.port';
import { SEALED_SUCCESSOR_BYTES } from '../../src/auth/tokens/refresh-token.codec';
import { newSessionId } from '../../src/auth/tokens/session-id.codec';
import { useFixture } from './contract-fixture';

export interface SessionStoreFixture {
  store: SessionStore;
  cleanup(): Promise<void>;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
export const IDLE_MS = 30 * MINUTE;
export const ABSOLUTE_MS = 24 * 60 * MINUTE;

/** A secret and its hash, as the service stores them (only the hash reaches the store). */
export function secretPair(): { secret: Buffer; hash: Buffer } {
  const secret = randomBytes(32);
  return { secret, hash: createHash('sha256').update(secret).digest() };
}

/** A unique user per test: tests may share one store (and one Redis) without interfering. */
export function freshUser(): string {
  return `user-${randomUUID()}`;
}

export function newSession(
  userId: string,
  createdAt: number,
  overrides: Partial<Omit<NewSession, 'userId' | 'createdAt'>> = {},
): NewSession {
  const { hash } = secretPair();
  return {
    userId,
    sid: newSessionId(createdAt),
    kind: 'api',
    createdAt,
    authTime: Math.floor(createdAt / 1000),
    absoluteExpiresAt: createdAt + ABSOLUTE_MS,
    idleTtlMs: IDLE_MS,
    deviceLabel: 'Firefox on Linux',
    bindingHash: 'bind-' + randomBytes(4).toString('hex'),
    secretHash: hash,
    ...overrides,
  };
}

/** A rotate command for `s` presenting `presentedHash`, with a fresh successor. */
export function rotateCmd(
  s: { userId: string; sid: string },
  presentedHash: Buffer,
  now: number,
  overrides: Partial<RotateCommand> = {},
): RotateCommand {
  return {
    userId: s.userId,
    sid: s.sid,
    kind: 'api',
    presentedHash,
    genuine: true,
    nextHash: secretPair().hash,
    sealedSuccessor: randomBytes(SEALED_SUCCESSOR_BYTES),
    now,
    idleTtlMs: IDLE_MS,
    revokeAllOnReuse: false,
    cutoffTtlMs: ABSOLUTE_MS,
    bindingHash: null,
    revokeOnBindingMismatch: false,
    ...overrides,
  };
}

function viewOf(s: NewSession, lastUsedAt = s.createdAt): SessionView {
  return {
    userId: s.userId,
    sid: s.sid,
    kind: s.kind,
    createdAt: s.createdAt,
    lastUsedAt,
    authTime: s.authTime,
    absoluteExpiresAt: s.absoluteExpiresAt,
    deviceLabel: s.deviceLabel,
    bindingHash: s.bindingHash,
  };
}

function kindOf(r: RotateResult): RotateResult['kind'] {
  return r.kind;
}

/**
 * The behaviour every SessionStore adapter must have. `factory` runs once per suite; tests use
 * unique user ids, so they may share the store. Time is the `now` each call is given (real
 * epoch milliseconds plus whatever a test adds), never the store's own clock.
 */
export function sessionStoreContract(name: string, factory: () => Promise<SessionStoreFixture>): void {
  describe(`SessionStore contract: ${name}`, () => {
    const fixture = useFixture(factory);
    const store = (): SessionStore => fixture().store;
    let t0: number;

    beforeEach(() => {
      t0 = Date.now();
    });

    describe('create, get, listByUser', () => {
      it('returns what was created, with lastUsedAt = createdAt, to get and listByUser', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { deviceLabel: 'Chrome on macOS ✓' });
        await store().create(s);
        expect(await store().get(u, s.sid, t0 + 1)).toEqual(viewOf(s));
        expect(await store().listByUser(u, t0 + 1)).toEqual([viewOf(s)]);
      });

      it('keeps the kind of a browser session', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { kind: 'browser' });
        await store().create(s);
        expect((await store().get(u, s.sid, t0))?.kind).toBe('browser');
      });

      it('lists a user\u2019s sessions newest first, and only theirs', async () => {
        const u = freshUser();
        const other = freshUser();
        const a = newSession(u, t0);
        const b = newSession(u, t0 + 2_000);
        const c = newSession(u, t0 + 1_000);
        for (const s of [a, b, c]) await store().create(s);
        await store().create(newSession(other, t0 + 3_000));
        const list = await store().listByUser(u, t0 + 5_000);
        expect(list.map((s) => s.sid)).toEqual([b.sid, c.sid, a.sid]);
        expect(list.every((s) => s.userId === u)).toBe(true);
      });

      it('answers null / [] for unknown users and sids, and for another user\u2019s sid', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        expect(await store().get(u, newSessionId(t0), t0)).toBeNull();
        expect(await store().get(freshUser(), s.sid, t0)).toBeNull();
        expect(await store().listByUser(freshUser(), t0)).toEqual([]);
      });
    });

    describe('rotate', () => {
      it('rotates the current secret: "rotated", lastUsedAt = now, and only the new secret is current', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const cmd = rotateCmd(s, s.secretHash, t0 + 5_000);
        const r = await store().rotate(cmd);
        expect(r).toEqual({ kind: 'rotated', session: viewOf(s, t0 + 5_000) });
        expect((await store().get(u, s.sid, t0 + 5_000))?.lastUsedAt).toBe(t0 + 5_000);
        // The successor's hash is now current and rotates in turn.
        expect(kindOf(await store().rotate(rotateCmd(s, cmd.nextHash, t0 + 6_000)))).toBe('rotated');
      });

      it('compares hashes byte for byte, whatever the byte values (0x00, 0x7f, 0x80, 0xff…)', async () => {
        const u = freshUser();
        // Hashes covering every byte value, high bit set or not: each one, once stored as the
        // successor, is the only current secret.
        const hashes = Array.from({ length: 8 }, (_, k) => Buffer.from(Array.from({ length: 32 }, (_, i) => (k * 32 + i) & 0xff)));
        const s = newSession(u, t0, { secretHash: Buffer.from(hashes[7]).reverse() });
        await store().create(s);
        let current = s.secretHash;
        for (const [k, next] of hashes.entries()) {
          const at = t0 + 1_000 * (k + 1);
          // Off by one bit in the first or the sixteenth byte: not current, and (not genuine) changes nothing.
          for (const i of [0, 15]) {
            const near = Buffer.from(current);
            near[i] ^= 0x01;
            expect(kindOf(await store().rotate(rotateCmd(s, near, at, { genuine: false })))).toBe('invalid');
          }
          expect(kindOf(await store().rotate(rotateCmd(s, current, at, { nextHash: next })))).toBe('rotated');
          current = next;
        }
      });

      it('the previous secret, while its successor is unused, gets the exact sealed successor at any time within the session\u2019s lifetimes; nothing changes', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const first = rotateCmd(s, s.secretHash, t0 + 1_000);
        expect(kindOf(await store().rotate(first))).toBe('rotated');

        // At once (a second tab), seconds later (a retry), and just before the idle deadline that
        // the rotation set (a response lost for good, the client back much later): a grace or not.
        for (const at of [t0 + 1_000, t0 + 1_000 + 10 * SECOND, t0 + 1_000 + IDLE_MS - 1]) {
          const again = await store().rotate(rotateCmd(s, s.secretHash, at, { revokeAllOnReuse: true }));
          expect(again.kind).toBe('replayed');
          if (again.kind !== 'replayed') return;
          expect(Buffer.isBuffer(again.sealedSuccessor)).toBe(true);
          expect(again.sealedSuccessor.equals(first.sealedSuccessor)).toBe(true);
          expect(again.session).toEqual(viewOf(s, t0 + 1_000));
        }
        // Not a rotation, and it does not extend the session: the first request's successor is still
        // the current one, within the same idle deadline.
        expect(await store().get(u, s.sid, t0 + 1_000 + IDLE_MS - 1)).toEqual(viewOf(s, t0 + 1_000));
        expect(kindOf(await store().rotate(rotateCmd(s, first.nextHash, t0 + 1_000 + IDLE_MS - 1)))).toBe('rotated');
      });

      it('the previous secret past the session\u2019s idle deadline is "expired", not a working pair', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_000));
        expect(await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_000 + IDLE_MS))).toEqual({ kind: 'expired' });
        expect(await store().get(u, s.sid, t0 + 1_000)).toBeNull();
      });

      it('the previous secret past the absolute expiry is "expired", however recently the session rotated', async () => {
        const u = freshUser();
        const abs = t0 + 3 * MINUTE;
        const s = newSession(u, t0, { absoluteExpiresAt: abs });
        await store().create(s);
        await store().rotate(rotateCmd(s, s.secretHash, abs - 1_000));
        expect(kindOf(await store().rotate(rotateCmd(s, s.secretHash, abs - 1)))).toBe('replayed');
        expect(await store().rotate(rotateCmd(s, s.secretHash, abs))).toEqual({ kind: 'expired' });
      });

      it('once its successor has been used, the previous secret is reuse, even a moment later: "reused", and the session is gone', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const r1 = rotateCmd(s, s.secretHash, t0 + 1_000);
        await store().rotate(r1);
        const r2 = rotateCmd(s, r1.nextHash, t0 + 1_100);
        expect(kindOf(await store().rotate(r2))).toBe('rotated');
        // r1's successor, now the previous secret, still gets r2's successor...
        expect(kindOf(await store().rotate(rotateCmd(s, r1.nextHash, t0 + 1_150)))).toBe('replayed');
        // ...but the secret before it is older: theft.
        expect(await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_200))).toEqual({ kind: 'reused', revokedAll: false });
        expect(await store().get(u, s.sid, t0 + 1_200)).toBeNull();
        expect(await store().listByUser(u, t0 + 1_200)).toEqual([]);
        // The legitimate holder's successor is dead too.
        expect(kindOf(await store().rotate(rotateCmd(s, r2.nextHash, t0 + 1_300)))).toBe('invalid');
      });

      it('an older secret is reuse at any time, the successor unused or not', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const r1 = rotateCmd(s, s.secretHash, t0 + 1_000);
        await store().rotate(r1);
        const r2 = rotateCmd(s, r1.nextHash, t0 + 2_000);
        await store().rotate(r2);
        const r3 = rotateCmd(s, r2.nextHash, t0 + 3_000);
        await store().rotate(r3);
        // r3's successor has never been used; r1's secret is two rotations back.
        expect(await store().rotate(rotateCmd(s, r1.nextHash, t0 + 3_001))).toEqual({ kind: 'reused', revokedAll: false });
        expect(await store().get(u, s.sid, t0 + 3_001)).toBeNull();
      });

      it('a wrong secret without our MAC (genuine=false) is "invalid" and does NOT revoke the session', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const wrong = await store().rotate(rotateCmd(s, secretPair().hash, t0 + 1_000, { genuine: false, revokeAllOnReuse: true }));
        expect(wrong).toEqual({ kind: 'invalid' });
        expect(await store().get(u, s.sid, t0 + 1_000)).toEqual(viewOf(s));
        expect(kindOf(await store().rotate(rotateCmd(s, s.secretHash, t0 + 2_000)))).toBe('rotated');
      });

      it('a browser command on an api session (and vice versa) is "invalid" and changes nothing', async () => {
        const u = freshUser();
        const api = newSession(u, t0);
        const browser = newSession(u, t0 + 1, { kind: 'browser' });
        await store().create(api);
        await store().create(browser);
        const kinds: Array<[NewSession, SessionKind]> = [
          [api, 'browser'],
          [browser, 'api'],
        ];
        for (const [s, kind] of kinds) {
          expect(await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_000, { kind }))).toEqual({ kind: 'invalid' });
          expect(await store().get(u, s.sid, t0 + 1_000)).toEqual(viewOf(s));
        }
        expect(kindOf(await store().rotate(rotateCmd(api, api.secretHash, t0 + 2_000)))).toBe('rotated');
        expect(kindOf(await store().rotate(rotateCmd(browser, browser.secretHash, t0 + 2_000, { kind: 'browser' })))).toBe('rotated');
      });

      it('an unknown session is "invalid"', async () => {
        const s = newSession(freshUser(), t0);
        expect(await store().rotate(rotateCmd(s, s.secretHash, t0))).toEqual({ kind: 'invalid' });
      });
    });

    describe('approximateSize (metrics only)', () => {
      it('is a number at least the live sessions just created (Redis: an upper bound from INFO keyspace)', async () => {
        const u = freshUser();
        for (let i = 0; i < 3; i++) await store().create(newSession(u, t0 + i));
        const n = await store().approximateSize();
        expect(typeof n).toBe('number');
        expect(n).toBeGreaterThanOrEqual(3);
      });
    });

    describe('device binding', () => {
      it('the recorded binding hash rotates; another one is "binding_mismatch" and (reject) leaves the session usable', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { bindingHash: 'device-A' });
        await store().create(s);
        const wrong = await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_000, { bindingHash: 'device-B' }));
        expect(wrong).toEqual({ kind: 'binding_mismatch', revoked: false });
        // Nothing changed: the same secret from the right device still rotates.
        const ok = rotateCmd(s, s.secretHash, t0 + 2_000, { bindingHash: 'device-A' });
        expect(kindOf(await store().rotate(ok))).toBe('rotated');
        expect((await store().get(u, s.sid, t0 + 2_000))?.bindingHash).toBe('device-A');
      });

      it('with revokeOnBindingMismatch the session is deleted in the same operation', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { bindingHash: 'device-A' });
        await store().create(s);
        const r = await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_000, { bindingHash: 'device-B', revokeOnBindingMismatch: true }));
        expect(r).toEqual({ kind: 'binding_mismatch', revoked: true });
        expect(await store().get(u, s.sid, t0 + 1_000)).toBeNull();
        expect(await store().listByUser(u, t0 + 1_000)).toEqual([]);
        expect(kindOf(await store().rotate(rotateCmd(s, s.secretHash, t0 + 2_000, { bindingHash: 'device-A' })))).toBe('invalid');
      });

      it('the replayed successor is refused to another device too', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { bindingHash: 'device-A' });
        await store().create(s);
        expect(kindOf(await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_000, { bindingHash: 'device-A' })))).toBe('rotated');
        const stolen = await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_500, { bindingHash: 'device-B' }));
        expect(stolen).toEqual({ kind: 'binding_mismatch', revoked: false });
        expect(kindOf(await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_600, { bindingHash: 'device-A' })))).toBe('replayed');
      });

      it('an old secret is reuse whatever the device (theft detection wins)', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { bindingHash: 'device-A' });
        await store().create(s);
        const r1 = rotateCmd(s, s.secretHash, t0 + 1_000, { bindingHash: 'device-A' });
        await store().rotate(r1);
        expect(kindOf(await store().rotate(rotateCmd(s, r1.nextHash, t0 + 1_100, { bindingHash: 'device-A' })))).toBe('rotated');
        const old = await store().rotate(rotateCmd(s, s.secretHash, t0 + 1_200, { bindingHash: 'device-B' }));
        expect(old).toEqual({ kind: 'reused', revokedAll: false });
      });

      it('a null binding (check off) or a session recorded without one is never a mismatch', async () => {
        const u = freshUser();
        const a = newSession(u, t0, { bindingHash: 'device-A' });
        const b = newSession(u, t0 + 1, { bindingHash: '' });
        await store().create(a);
        await store().create(b);
        expect(kindOf(await store().rotate(rotateCmd(a, a.secretHash, t0 + 1_000, { bindingHash: null })))).toBe('rotated');
        expect(kindOf(await store().rotate(rotateCmd(b, b.secretHash, t0 + 1_000, { bindingHash: 'device-B' })))).toBe('rotated');
      });

      it('an expired session is "expired", not a mismatch', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { bindingHash: 'device-A' });
        await store().create(s);
        expect(kindOf(await store().rotate(rotateCmd(s, s.secretHash, t0 + IDLE_MS + 1, { bindingHash: 'device-B' })))).toBe('expired');
      });
    });

    describe('expiry', () => {
      it('idle: alive until lastUsedAt + idle, "expired" from then on, and gone afterwards', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        expect(await store().get(u, s.sid, t0 + IDLE_MS - 1)).not.toBeNull();
        expect(await store().get(u, s.sid, t0 + IDLE_MS)).toBeNull();
        expect(await store().rotate(rotateCmd(s, s.secretHash, t0 + IDLE_MS))).toEqual({ kind: 'expired' });
        // Removed, not merely hidden: even an earlier `now` no longer finds it.
        expect(await store().get(u, s.sid, t0)).toBeNull();
        expect(await store().listByUser(u, t0)).toEqual([]);
      });

      it('idle: an expired session is not listed', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        const fresh = newSession(u, t0 + IDLE_MS - 10);
        await store().create(s);
        await store().create(fresh);
        expect((await store().listByUser(u, t0 + IDLE_MS)).map((v) => v.sid)).toEqual([fresh.sid]);
      });

      it('idle timeout slides with use', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const r1 = rotateCmd(s, s.secretHash, t0 + IDLE_MS - 1);
        expect(kindOf(await store().rotate(r1))).toBe('rotated');
        // Past the first idle deadline, but within idle of the last use.
        expect(await store().get(u, s.sid, t0 + IDLE_MS + 1_000)).not.toBeNull();
        expect(kindOf(await store().rotate(rotateCmd(s, r1.nextHash, t0 + 2 * IDLE_MS - 2)))).toBe('rotated');
      });

      it('absolute: "expired" at absoluteExpiresAt however recently it was used', async () => {
        const u = freshUser();
        const abs = t0 + 3 * MINUTE;
        const s = newSession(u, t0, { absoluteExpiresAt: abs, idleTtlMs: 2 * MINUTE });
        await store().create(s);
        // Used 80 s before the end: its idle deadline (lastUsed + 2 min) lies beyond the absolute one.
        const r1 = rotateCmd(s, s.secretHash, abs - 80_000, { idleTtlMs: 2 * MINUTE });
        expect(kindOf(await store().rotate(r1))).toBe('rotated');
        expect(await store().get(u, s.sid, abs - 1)).not.toBeNull();
        expect(await store().get(u, s.sid, abs)).toBeNull();
        expect(await store().rotate(rotateCmd(s, r1.nextHash, abs, { idleTtlMs: 2 * MINUTE }))).toEqual({ kind: 'expired' });
        expect(await store().get(u, s.sid, abs - 1)).toBeNull();
      });
    });

    describe('lookup and touch (browser sessions)', () => {
      it('lookup returns the live session with its current secret hash; null when unknown or another user\u2019s', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { kind: 'browser' });
        await store().create(s);
        const found = await store().lookup(u, s.sid, t0 + 1);
        expect(found?.session).toEqual(viewOf(s));
        // The full SHA-256 or a prefix of at least 128 bits of it (see SessionCredential).
        expect(found!.secretHash.length).toBeGreaterThanOrEqual(16);
        expect(Buffer.compare(found!.secretHash, s.secretHash.subarray(0, found!.secretHash.length))).toBe(0);
        expect(await store().lookup(freshUser(), s.sid, t0 + 1)).toBeNull();
        expect(await store().lookup(u, newSession(u, t0).sid, t0 + 1)).toBeNull();
      });

      it('lookup is null after idle or absolute expiry, revoke and revokeAll', async () => {
        const u = freshUser();
        const idle = newSession(u, t0, { kind: 'browser', idleTtlMs: 60_000 });
        const abs = newSession(u, t0 + 1, { kind: 'browser', absoluteExpiresAt: t0 + 1 + 30_000 });
        const revoked = newSession(u, t0 + 2, { kind: 'browser' });
        for (const s of [idle, abs, revoked]) await store().create(s);
        expect(await store().lookup(u, idle.sid, t0 + 60_000)).toBeNull();
        expect(await store().lookup(u, abs.sid, t0 + 1 + 30_000)).toBeNull();
        await store().revoke(u, revoked.sid);
        expect(await store().lookup(u, revoked.sid, t0 + 10)).toBeNull();
        const v = freshUser();
        const cut = newSession(v, t0, { kind: 'browser' });
        await store().create(cut);
        await store().revokeAll(v, t0 + 1, ABSOLUTE_MS);
        expect(await store().lookup(v, cut.sid, t0 + 10)).toBeNull();
      });

      it('touch records use (lastUsedAt) and slides the idle timeout', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { kind: 'browser', idleTtlMs: 60_000 });
        await store().create(s);
        expect(await store().touch(u, s.sid, t0 + 50_000, 60_000)).toBe(true);
        expect((await store().get(u, s.sid, t0 + 50_000))?.lastUsedAt).toBe(t0 + 50_000);
        // Past the original idle deadline, alive because it was used; dead idle after the new one.
        expect(await store().lookup(u, s.sid, t0 + 100_000)).not.toBeNull();
        expect((await store().listByUser(u, t0 + 100_000)).map((x) => x.lastUsedAt)).toEqual([t0 + 50_000]);
        expect(await store().lookup(u, s.sid, t0 + 110_000)).toBeNull();
      });

      it('touch never moves lastUsedAt back, never revives or extends past the absolute expiry', async () => {
        const u = freshUser();
        const s = newSession(u, t0, { kind: 'browser', idleTtlMs: 60_000, absoluteExpiresAt: t0 + 90_000 });
        await store().create(s);
        expect(await store().touch(u, s.sid, t0 + 40_000, 60_000)).toBe(true);
        expect(await store().touch(u, s.sid, t0 + 30_000, 60_000)).toBe(true);
        expect((await store().get(u, s.sid, t0 + 40_000))?.lastUsedAt).toBe(t0 + 40_000);
        expect(await store().touch(u, s.sid, t0 + 80_000, 60_000)).toBe(true);
        expect(await store().lookup(u, s.sid, t0 + 90_000)).toBeNull();
        expect(await store().touch(u, s.sid, t0 + 90_000, 60_000)).toBe(false);
        const idle = newSession(u, t0, { kind: 'browser', idleTtlMs: 60_000 });
        await store().create(idle);
        expect(await store().touch(u, idle.sid, t0 + 60_000, 60_000)).toBe(false);
        expect(await store().get(u, idle.sid, t0 + 60_001)).toBeNull();
      });

      it('touch is false for unknown, revoked and cut-off sessions, and writes nothing', async () => {
        const u = freshUser();
        expect(await store().touch(u, newSession(u, t0).sid, t0, 60_000)).toBe(false);
        const s = newSession(u, t0, { kind: 'browser' });
        await store().create(s);
        await store().revoke(u, s.sid);
        expect(await store().touch(u, s.sid, t0 + 1, 60_000)).toBe(false);
        expect(await store().get(u, s.sid, t0 + 1)).toBeNull();
        const c = newSession(u, t0 + 2, { kind: 'browser' });
        await store().create(c);
        await store().revokeAll(u, t0 + 3, ABSOLUTE_MS);
        expect(await store().touch(u, c.sid, t0 + 4, 60_000)).toBe(false);
        expect(await store().listByUser(u, t0 + 4)).toEqual([]);
      });
    });

    describe('reuse with revokeAllOnReuse', () => {
      it('kills every session of the user created before the reuse, and only theirs', async () => {
        const u = freshUser();
        const other = freshUser();
        const victim = newSession(u, t0);
        const sibling1 = newSession(u, t0 + 10);
        const sibling2 = newSession(u, t0 + 20, { kind: 'browser' });
        const stranger = newSession(other, t0);
        for (const s of [victim, sibling1, sibling2, stranger]) await store().create(s);

        const r1 = rotateCmd(victim, victim.secretHash, t0 + 1_000);
        await store().rotate(r1);
        await store().rotate(rotateCmd(victim, r1.nextHash, t0 + 1_100));
        const reuseAt = t0 + 1_200;
        const reuse = await store().rotate(rotateCmd(victim, victim.secretHash, reuseAt, { revokeAllOnReuse: true }));
        expect(reuse).toEqual({ kind: 'reused', revokedAll: true });

        for (const s of [victim, sibling1, sibling2]) expect(await store().get(u, s.sid, reuseAt)).toBeNull();
        expect(await store().listByUser(u, reuseAt)).toEqual([]);
        expect(await store().rotate(rotateCmd(sibling1, sibling1.secretHash, reuseAt))).toEqual({ kind: 'invalid' });
        expect(await store().rotate(rotateCmd(sibling2, sibling2.secretHash, reuseAt, { kind: 'browser' }))).toEqual({ kind: 'invalid' });

        expect(await store().get(other, stranger.sid, reuseAt)).toEqual(viewOf(stranger));
        expect(kindOf(await store().rotate(rotateCmd(stranger, stranger.secretHash, reuseAt)))).toBe('rotated');

        // A login after the cut-off is a new, healthy session.
        const later = newSession(u, reuseAt + 1);
        await store().create(later);
        expect(await store().listByUser(u, reuseAt + 2)).toEqual([viewOf(later)]);
        expect(kindOf(await store().rotate(rotateCmd(later, later.secretHash, reuseAt + 3)))).toBe('rotated');
      });
    });

    describe(`at most ${MAX_SESSIONS_PER_USER} live sessions per user`, () => {
      it('a new session past the cap ends the least recently used one and names it; nothing else changes', async () => {
        const u = freshUser();
        const other = freshUser();
        const stranger = newSession(other, t0);
        await store().create(stranger);
        const all: NewSession[] = [];
        for (let i = 0; i < MAX_SESSIONS_PER_USER; i++) {
          const s = newSession(u, t0 + i);
          all.push(s);
          expect(await store().create(s)).toEqual({ evicted: null });
        }
        // The oldest one is used again: now the second oldest is the least recently used.
        expect(kindOf(await store().rotate(rotateCmd(all[0], all[0].secretHash, t0 + 1_000)))).toBe('rotated');
        const extra = newSession(u, t0 + 2_000);
        expect(await store().create(extra)).toEqual({ evicted: all[1].sid });
        const listed = (await store().listByUser(u, t0 + 2_000)).map((v) => v.sid);
        expect(listed).toHaveLength(MAX_SESSIONS_PER_USER);
        expect(listed).toContain(all[0].sid);
        expect(listed).toContain(extra.sid);
        expect(listed).not.toContain(all[1].sid);
        expect(await store().get(u, all[1].sid, t0 + 2_000)).toBeNull();
        expect(await store().get(other, stranger.sid, t0 + 2_000)).not.toBeNull();
      });

      it('expired sessions do not count toward the cap', async () => {
        const u = freshUser();
        for (let i = 0; i < MAX_SESSIONS_PER_USER; i++) await store().create(newSession(u, t0 + i, { idleTtlMs: 60_000 }));
        const later = t0 + 120_000;
        expect(await store().create(newSession(u, later))).toEqual({ evicted: null });
        expect(await store().listByUser(u, later)).toHaveLength(1);
      });
    });

    describe('revoke and revokeAll', () => {
      it('revoke removes one session, true the first time and false the second', async () => {
        const u = freshUser();
        const a = newSession(u, t0);
        const b = newSession(u, t0 + 1);
        await store().create(a);
        await store().create(b);
        expect(await store().revoke(u, a.sid)).toBe(true);
        expect(await store().get(u, a.sid, t0 + 2)).toBeNull();
        expect((await store().listByUser(u, t0 + 2)).map((s) => s.sid)).toEqual([b.sid]);
        expect(await store().rotate(rotateCmd(a, a.secretHash, t0 + 2))).toEqual({ kind: 'invalid' });
        expect(await store().revoke(u, a.sid)).toBe(false);
        expect(await store().revoke(u, newSessionId(t0))).toBe(false);
        expect(kindOf(await store().rotate(rotateCmd(b, b.secretHash, t0 + 3)))).toBe('rotated');
      });

      it('revoke of another user\u2019s sid is false and leaves it alone', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        expect(await store().revoke(freshUser(), s.sid)).toBe(false);
        expect(await store().get(u, s.sid, t0)).not.toBeNull();
      });

      it('revokeAll(cutoff) kills the sessions created before the cut-off; a later one lives', async () => {
        const u = freshUser();
        const other = freshUser();
        const old1 = newSession(u, t0);
        const old2 = newSession(u, t0 + 100);
        const stranger = newSession(other, t0);
        for (const s of [old1, old2, stranger]) await store().create(s);

        const cutoff = t0 + 1_000;
        await store().revokeAll(u, cutoff, ABSOLUTE_MS);
        for (const s of [old1, old2]) {
          expect(await store().get(u, s.sid, cutoff)).toBeNull();
          expect(await store().rotate(rotateCmd(s, s.secretHash, cutoff))).toEqual({ kind: 'invalid' });
        }
        expect(await store().listByUser(u, cutoff)).toEqual([]);
        expect(await store().get(other, stranger.sid, cutoff)).not.toBeNull();

        const later = newSession(u, cutoff + 1);
        await store().create(later);
        expect(await store().get(u, later.sid, cutoff + 2)).toEqual(viewOf(later));
        expect(await store().listByUser(u, cutoff + 2)).toEqual([viewOf(later)]);
        expect(kindOf(await store().rotate(rotateCmd(later, later.secretHash, cutoff + 3)))).toBe('rotated');
      });

      it('revoke of a session already killed by revokeAll is false (no live session was removed)', async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        await store().revokeAll(u, t0 + 1, ABSOLUTE_MS);
        expect(await store().revoke(u, s.sid)).toBe(false);
      });

      it('an earlier cut-off never weakens a later one', async () => {
        const u = freshUser();
        const s = newSession(u, t0 + 500);
        await store().create(s);
        await store().revokeAll(u, t0 + 1_000, ABSOLUTE_MS);
        await store().revokeAll(u, t0, ABSOLUTE_MS);
        expect(await store().get(u, s.sid, t0 + 1_000)).toBeNull();
      });
    });

    describe('concurrency (invariant 1)', () => {
      const N = 50;

      it(`of ${N} concurrent rotations with one secret, exactly one rotates; the others get its successor`, async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const cmds = Array.from({ length: N }, () => rotateCmd(s, s.secretHash, t0 + 1_000));
        const results = await Promise.all(cmds.map((c) => store().rotate(c)));

        const winners = results.flatMap((r, i) => (r.kind === 'rotated' ? [i] : []));
        expect(winners).toHaveLength(1);
        const winner = cmds[winners[0]];
        const others = results.filter((r) => r.kind !== 'rotated');
        expect(others.map(kindOf)).toEqual(Array(N - 1).fill('replayed'));
        for (const r of others) {
          if (r.kind === 'replayed') expect(r.sealedSuccessor.equals(winner.sealedSuccessor)).toBe(true);
        }

        // Exactly one lineage continues: the losers' successors were never recorded.
        for (const [i, c] of cmds.entries()) {
          if (i === winners[0]) continue;
          expect(await store().rotate(rotateCmd(s, c.nextHash, t0 + 2_000, { genuine: false }))).toEqual({ kind: 'invalid' });
        }
        expect(kindOf(await store().rotate(rotateCmd(s, winner.nextHash, t0 + 2_000)))).toBe('rotated');
      });

      it(`${N} concurrent rotations of the previous secret and of its successor: one rotation, never a second lineage`, async () => {
        const u = freshUser();
        const s = newSession(u, t0);
        await store().create(s);
        const first = rotateCmd(s, s.secretHash, t0 + 1_000);
        await store().rotate(first);
        const cmds = Array.from({ length: N }, (_, i) => rotateCmd(s, i % 2 === 0 ? s.secretHash : first.nextHash, t0 + 2_000));
        const results = await Promise.all(cmds.map((c) => store().rotate(c)));
        // Applied one at a time, in the order sent: the first secret gets the sealed successor
        // while that is unused; the successor rotates once; from then on the first secret is older:
        // theft, and the session is gone for everyone after.
        expect(results.map(kindOf)).toEqual(['replayed', 'rotated', 'reused', ...Array(N - 3).fill('invalid')]);
        expect(await store().get(u, s.sid, t0 + 2_000)).toBeNull();
      });

      it('concurrent rotations of different sessions of one user do not interfere', async () => {
        const u = freshUser();
        const sessions = Array.from({ length: 20 }, (_, i) => newSession(u, t0 + i));
        await Promise.all(sessions.map((s) => store().create(s)));
        const results = await Promise.all(sessions.map((s) => store().rotate(rotateCmd(s, s.secretHash, t0 + 1_000))));
        expect(results.map(kindOf)).toEqual(Array(20).fill('rotated'));
        expect(await store().listByUser(u, t0 + 1_000)).toHaveLength(20);
      });
    });
  });
}
