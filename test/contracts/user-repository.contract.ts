import { randomBytes, randomUUID } from 'node:crypto';
import type { UserRepository } from '../../src/users';
import { useFixture } from './contract-fixture';

export interface UserRepositoryFixture {
  repo: UserRepository;
  cleanup(): Promise<void>;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A unique address per test, so tests may share one database without interfering. */
function freshEmail(local = 'user'): string {
  return `${local}.${randomBytes(5).toString('hex')}@example.com`;
}

/**
 * The behaviour every UserRepository adapter must have. `factory` is called once per suite
 * (beforeAll) and may return a repository over a shared database: tests use unique emails.
 */
export function userRepositoryContract(name: string, factory: () => Promise<UserRepositoryFixture>): void {
  describe(`UserRepository contract: ${name}`, () => {
    const fixture = useFixture(factory);
    const repo = (): UserRepository => fixture().repo;

    it('creates a user and finds it by email, case- and whitespace-insensitively; shows the address as typed', async () => {
      const email = freshEmail('Alice');
      const created = await repo().create({ email: `  ${email.toUpperCase()} `, passwordHash: 'hash-1' });
      expect(created.ok).toBe(true);
      if (!created.ok) return;
      expect(created.user.email).toBe(email.toUpperCase());
      expect(created.user.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(created.user.createdAt.getTime() - Date.now())).toBeLessThan(60_000);

      for (const typed of [email, email.toLowerCase(), email.toUpperCase(), ` ${email} `]) {
        const found = await repo().findByEmail(typed);
        expect(found).toEqual({ ...created.user, passwordHash: 'hash-1' });
      }
    });

    it('answers EMAIL_TAKEN for a duplicate email, in any case, and keeps the first account', async () => {
      const email = freshEmail();
      const first = await repo().create({ email, passwordHash: 'first' });
      expect(first.ok).toBe(true);
      expect(await repo().create({ email, passwordHash: 'second' })).toEqual({ ok: false, reason: 'EMAIL_TAKEN' });
      expect(await repo().create({ email: ` ${email.toUpperCase()}`, passwordHash: 'third' })).toEqual({
        ok: false,
        reason: 'EMAIL_TAKEN',
      });
      expect((await repo().findByEmail(email))?.passwordHash).toBe('first');
    });

    it('treats Unicode look-alikes (NFKC: full-width, ligatures) as the same address', async () => {
      const local = freshEmail('ada').split('@')[0];
      const plain = `${local}@example.com`;
      // Full-width letters and digits, and the full-width at sign: NFKC maps them to ASCII.
      const fullWidth = [...plain].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
      expect(fullWidth).not.toBe(plain);
      const first = await repo().create({ email: fullWidth, passwordHash: 'wide' });
      expect(first.ok && first.user.email).toBe(fullWidth);
      expect(await repo().create({ email: plain, passwordHash: 'plain' })).toEqual({ ok: false, reason: 'EMAIL_TAKEN' });
      expect(await repo().create({ email: plain.toUpperCase(), passwordHash: 'upper' })).toEqual({ ok: false, reason: 'EMAIL_TAKEN' });
      expect((await repo().findByEmail(plain))?.passwordHash).toBe('wide');
      expect((await repo().findByEmail(`ﬀ${plain}`))).toBeNull();
      const ligature = await repo().create({ email: `ﬀ${plain}`, passwordHash: 'lig' });
      expect(ligature.ok).toBe(true);
      expect((await repo().findByEmail(`ff${plain}`))?.passwordHash).toBe('lig');
    });

    it('lets exactly one of several concurrent creates of one email succeed', async () => {
      const email = freshEmail();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => repo().create({ email: i % 2 ? email.toUpperCase() : email, passwordHash: `h${i}` })),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === 'EMAIL_TAKEN')).toHaveLength(7);
    });

    it('finds a user by id', async () => {
      const created = await repo().create({ email: freshEmail(), passwordHash: 'h' });
      if (!created.ok) throw new Error('create failed');
      expect(await repo().findById(created.user.id)).toEqual({ ...created.user, passwordHash: 'h' });
    });

    it('returns null for unknown emails and ids, including ids that are not UUIDs', async () => {
      expect(await repo().findByEmail(freshEmail('nobody'))).toBeNull();
      expect(await repo().findByEmail('')).toBeNull();
      expect(await repo().findByEmail('x'.repeat(10_000))).toBeNull();
      expect(await repo().findById(randomUUID())).toBeNull();
      expect(await repo().findById('not-a-uuid')).toBeNull();
      expect(await repo().findById("'; DROP TABLE users; --")).toBeNull();
    });

    it('updates a password hash, and reports an unknown id', async () => {
      const created = await repo().create({ email: freshEmail(), passwordHash: 'old' });
      if (!created.ok) throw new Error('create failed');
      expect(await repo().updatePasswordHash(created.user.id, 'new')).toBe(true);
      expect((await repo().findById(created.user.id))?.passwordHash).toBe('new');
      expect((await repo().findByEmail(created.user.email))?.passwordHash).toBe('new');
      expect(await repo().updatePasswordHash(randomUUID(), 'x')).toBe(false);
      expect(await repo().updatePasswordHash('not-a-uuid', 'x')).toBe(false);
    });

    it('a new account is unverified; markEmailVerified needs the account\'s current address', async () => {
      const created = await repo().create({ email: freshEmail(), passwordHash: 'h' });
      if (!created.ok) throw new Error('create failed');
      expect(created.user.emailVerified).toBe(false);
      expect(await repo().markEmailVerified(created.user.id, freshEmail('someone-else'))).toBe(false);
      expect((await repo().findById(created.user.id))?.emailVerified).toBe(false);
      expect(await repo().markEmailVerified(created.user.id, ` ${created.user.email.toUpperCase()}`)).toBe(true);
      expect((await repo().findByEmail(created.user.email))?.emailVerified).toBe(true);
      expect(await repo().markEmailVerified(randomUUID(), created.user.email)).toBe(false);
      expect(await repo().markEmailVerified('not-a-uuid', created.user.email)).toBe(false);
    });

    it('gives every user a distinct random UUID', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => repo().create({ email: freshEmail(), passwordHash: 'h' })));
      const ids = results.map((r) => (r.ok ? r.user.id : 'failed'));
      for (const id of ids) expect(id).toMatch(UUID_V4);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
}
