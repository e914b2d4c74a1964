import { randomBytes } from 'node:crypto';
import { closeSharedPglite, sharedPglite } from '../../test/support/pglite';
import { InvalidEmailError } from './email-address';
import { PasswordHasher } from './password-hasher';
import { SqlUserRepository } from './user-repository.sql';
import { UsersService } from './users.service';

// The real argon2id hasher at production parameters (~10-60 ms a hash) over the real SQL adapter
// on one in-memory PGlite for the file: no fake repository to drift from the real one.
let hasher: PasswordHasher;
let repo: SqlUserRepository;
let service: UsersService;

beforeAll(async () => {
  repo = new SqlUserRepository(await sharedPglite());
  await repo.migrate();
  hasher = await PasswordHasher.create();
  service = new UsersService(repo, hasher);
}, 60_000);

afterAll(() => closeSharedPglite());

afterEach(() => jest.restoreAllMocks());

function freshEmail(local = 'user'): string {
  return `${local}.${randomBytes(5).toString('hex')}@example.com`;
}

const GOOD_PASSWORD = 'correct horse battery staple';

async function registered(password = GOOD_PASSWORD, email = freshEmail()): Promise<{ id: string; email: string }> {
  const result = await service.register(email, password);
  if (!result.ok) throw new Error(`setup: register failed: ${JSON.stringify(result)}`);
  return result.user;
}

describe('UsersService.verify', () => {
  it('returns the user id for the right password, whatever the email case and spacing', async () => {
    const user = await registered();
    expect(await service.verify(user.email, GOOD_PASSWORD)).toEqual({ id: user.id, emailVerified: false });
    expect(await service.verify(`  ${user.email.toUpperCase()} `, GOOD_PASSWORD)).toEqual({ id: user.id, emailVerified: false });
  });

  it('returns null alike for an unknown email and a wrong password', async () => {
    const user = await registered();
    expect(await service.verify(freshEmail('nobody'), GOOD_PASSWORD)).toBeNull();
    expect(await service.verify(user.email, 'wrong password!')).toBeNull();
  });

  it.each([
    ['unknown email', (_email: string) => [freshEmail('nobody'), GOOD_PASSWORD]],
    ['wrong password', (email: string) => [email, 'not the password']],
    ['right password', (email: string) => [email, GOOD_PASSWORD]],
    ['empty password', (email: string) => [email, '']],
    ['overlong password (257 code points)', (email: string) => [email, 'a'.repeat(257)]],
    ['gigantic password (1 MB)', (email: string) => [email, 'a'.repeat(1_000_000)]],
    ['overlong email (255 chars)', () => [`${'a'.repeat(243)}@example.com`, GOOD_PASSWORD]],
    ['gigantic email (1 MB)', () => ['a'.repeat(1_000_000), GOOD_PASSWORD]],
  ])('runs exactly one hash verification for: %s', async (_label, args) => {
    const user = await registered();
    const [email, password] = args(user.email) as [string, string];
    const verify = jest.spyOn(hasher, 'verify');
    await service.verify(email, password);
    expect(verify).toHaveBeenCalledTimes(1);
    // Refused inputs are never hashed themselves: the dummy check runs on something short.
    const [phc, hashedInput] = verify.mock.calls[0] as [string, string];
    expect(hashedInput.length).toBeLessThanOrEqual(1024);
    if (!(await repo.findByEmail(email))) expect(phc).toBe(hasher.dummyHash);
  });

  it('checks unknown users against a dummy hash with the production parameters', () => {
    expect(hasher.dummyHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('refuses an overlong password instead of truncating it', async () => {
    const long = 'b'.repeat(256);
    const user = await registered(long);
    expect(await service.verify(user.email, long)).toEqual({ id: user.id, emailVerified: false });
    expect(await service.verify(user.email, `${long}b`)).toBeNull();
  });

  it('matches a password typed with compatibility characters against its NFKC form', async () => {
    // U+FB01 LATIN SMALL LIGATURE FI, and full-width Latin letters, on registration…
    const user = await registered('\uFB01nancial-planet-42');
    expect(await service.verify(user.email, 'financial-planet-42')).toEqual({ id: user.id, emailVerified: false });
    const fullWidth = await registered('ｏｒａｎｇｅ-ｒｉｖｅｒ');
    expect(await service.verify(fullWidth.email, 'orange-river')).toEqual({ id: fullWidth.id, emailVerified: false });
    // …and the other way round, on login.
    const plain = await registered('fine-dining-9');
    expect(await service.verify(plain.email, '\uFB01ne-dining-9')).toEqual({ id: plain.id, emailVerified: false });
  });
});

describe('UsersService.register: password policy', () => {
  const email = 'alice.smith@example.com';

  it.each<[string, string, string | null]>([
    ['7 characters', 'abcdefg', 'at least 8 characters'],
    ['8 characters', 'lmqxvrtz', null],
    ['8 code points, 16 UTF-16 units (emoji)', '🐱🐶🐭🐹🐰🦊🐻🐼', null],
    ['7 code points, 14 UTF-16 units (emoji)', '🐱🐶🐭🐹🐰🦊🐻', 'at least 8 characters'],
    ['64 characters', 'k'.repeat(64), null],
    ['256 characters', 'm'.repeat(256), null],
    ['257 characters', 'n'.repeat(257), 'at most 256 characters'],
    ['a gigantic string', 'p'.repeat(1_000_000), 'at most 256 characters'],
    ['a common password', 'password1', 'too common'],
    ['a common password in another case', 'QwertyUIOP', 'too common'],
    ['a common password in full-width letters', 'ｐａｓｓｗｏｒｄ', 'too common'],
    ['the email address', email, 'email address'],
    ['the email address in upper case', email.toUpperCase(), 'email address'],
    ['a password containing the local part', 'my-Alice.Smith-2024', 'before the @'],
    ['no composition rules: lower-case letters and spaces only', 'purple monkey dishwasher', null],
  ])('%s', async (_label, password, rejection) => {
    const result = await service.register(rejection === null ? freshEmail('alice.smith') : email, password);
    if (rejection === null) {
      expect(result).toEqual({ ok: true, user: { id: expect.any(String), email: expect.stringMatching(/@example\.com$/) } });
    } else {
      expect(result).toEqual({ ok: false, reason: 'PASSWORD_REJECTED', detail: expect.stringContaining(rejection) });
      if (!result.ok && result.reason === 'PASSWORD_REJECTED') expect(result.detail).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('ignores a local part shorter than 4 characters', async () => {
    const result = await service.register(`bob@${randomBytes(4).toString('hex')}.example.com`, 'bobsleigh-run');
    expect(result.ok).toBe(true);
  });

  it('keys the email normalised (shown as typed) and answers EMAIL_TAKEN for the same address in another case', async () => {
    const email = freshEmail('Carol');
    const first = await service.register(`  ${email.toUpperCase()}`, GOOD_PASSWORD);
    expect(first).toEqual({ ok: true, user: { id: expect.any(String), email: email.toUpperCase() } });
    expect(await service.register(email, 'another good passphrase')).toEqual({ ok: false, reason: 'EMAIL_TAKEN' });
  });

  it('hashes with argon2id at the OWASP parameters', async () => {
    const user = await registered();
    expect((await repo.findById(user.id))?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it.each([
    'no-at-sign.example.com',
    'two@@example.com',
    'a@b@example.com',
    '@example.com',
    'local@',
    'local@localhost',
    'local@.example.com',
    'local@example..com',
    'with space@example.com',
    'tab\t@example.com',
    'zero\u200Bwidth@example.com',
    `${'l'.repeat(65)}@example.com`,
    `x@${'d'.repeat(250)}.com`,
    '',
  ])('refuses the malformed address %j', async (bad) => {
    const hash = jest.spyOn(hasher, 'hash');
    await expect(service.register(bad, GOOD_PASSWORD)).rejects.toBeInstanceOf(InvalidEmailError);
    expect(hash).not.toHaveBeenCalled();
  });
});

describe('UsersService.accountById', () => {
  it('gives the account\u2019s email for its id (a login with it counts on the same lockout), null for an unknown or malformed id', async () => {
    const user = await registered(GOOD_PASSWORD, freshEmail('Mixed.Case'));
    const email = (await service.accountById(user.id))?.email;
    expect(email).toBe(user.email);
    expect(await service.verify(email!, GOOD_PASSWORD)).toEqual({ id: user.id, emailVerified: false });
    expect(await service.accountById('00000000-0000-4000-8000-000000000000')).toBeNull();
    expect(await service.accountById('nope')).toBeNull();
  });
});

describe('UsersService.changePassword', () => {
  it('changes the password after checking the current one with one verification', async () => {
    const user = await registered();
    const verify = jest.spyOn(hasher, 'verify');
    expect(await service.changePassword(user.id, GOOD_PASSWORD, 'a brand new passphrase')).toEqual({ ok: true });
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockRestore();
    expect(await service.verify(user.email, GOOD_PASSWORD)).toBeNull();
    expect(await service.verify(user.email, 'a brand new passphrase')).toEqual({ id: user.id, emailVerified: false });
  });

  it.each([
    ['a wrong current password', (id: string) => [id, 'wrong current']],
    ['an unknown user id', () => ['00000000-0000-4000-8000-000000000000', GOOD_PASSWORD]],
    ['a user id that is not a UUID', () => ['nope', GOOD_PASSWORD]],
    ['an overlong current password', (id: string) => [id, 'z'.repeat(10_000)]],
  ])('answers INVALID_CREDENTIALS after one verification for %s', async (_label, args) => {
    const user = await registered();
    const [id, current] = args(user.id) as [string, string];
    const verify = jest.spyOn(hasher, 'verify');
    const hash = jest.spyOn(hasher, 'hash');
    expect(await service.changePassword(id, current, 'a brand new passphrase')).toEqual({ ok: false, reason: 'INVALID_CREDENTIALS' });
    expect(verify).toHaveBeenCalledTimes(1);
    expect(hash).not.toHaveBeenCalled();
  });

  it('applies the policy to the new password, against the account email', async () => {
    const email = freshEmail('dorothy');
    const user = await registered(GOOD_PASSWORD, email);
    expect(await service.changePassword(user.id, GOOD_PASSWORD, 'short')).toEqual({
      ok: false,
      reason: 'PASSWORD_REJECTED',
      detail: expect.stringContaining('at least 8'),
    });
    expect(await service.changePassword(user.id, GOOD_PASSWORD, `xx${email.split('@')[0]}xx`)).toEqual({
      ok: false,
      reason: 'PASSWORD_REJECTED',
      detail: expect.stringContaining('before the @'),
    });
    expect(await service.changePassword(user.id, GOOD_PASSWORD, 'iloveyou')).toEqual({
      ok: false,
      reason: 'PASSWORD_REJECTED',
      detail: expect.stringContaining('too common'),
    });
    // Nothing changed.
    expect(await service.verify(email, GOOD_PASSWORD)).toEqual({ id: user.id, emailVerified: false });
  });
});

describe('UsersService: what the recovery flows need', () => {
  it('finds an account by address (as typed) and by id, with its verification state and a password stamp', async () => {
    const user = await registered();
    const byEmail = await service.accountByEmail(`  ${user.email.toUpperCase()} `);
    expect(byEmail).toEqual({ id: user.id, email: user.email, emailVerified: false, passwordStamp: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    expect(await service.accountById(user.id)).toEqual(byEmail);
    expect(await service.accountByEmail(freshEmail('nobody'))).toBeNull();
    expect(await service.accountByEmail('x'.repeat(5000))).toBeNull();
    expect(await service.accountById('not-a-uuid')).toBeNull();
  });

  it('marks the address verified only while it is still the account\'s address; login then says so', async () => {
    const user = await registered();
    expect(await service.markEmailVerified(user.id, freshEmail('other'))).toBe(false);
    expect((await service.accountById(user.id))?.emailVerified).toBe(false);
    expect(await service.markEmailVerified(user.id, user.email.toUpperCase())).toBe(true);
    expect((await service.accountById(user.id))?.emailVerified).toBe(true);
    expect(await service.verify(user.email, GOOD_PASSWORD)).toEqual({ id: user.id, emailVerified: true });
    expect(await service.markEmailVerified('00000000-0000-4000-8000-000000000000', user.email)).toBe(false);
  });

  it('a password change, even to the same password, gives a new stamp', async () => {
    const user = await registered();
    const before = (await service.accountById(user.id))!.passwordStamp;
    expect(await service.changePassword(user.id, GOOD_PASSWORD, GOOD_PASSWORD)).toEqual({ ok: true });
    const after = (await service.accountById(user.id))!.passwordStamp;
    expect(after).not.toBe(before);
    expect(await service.resetPassword(user.id, GOOD_PASSWORD)).toEqual({ ok: true });
    expect((await service.accountById(user.id))!.passwordStamp).not.toBe(after);
  });

  it('checkNewPassword applies the policy against the account\'s address and changes nothing', async () => {
    const email = freshEmail('eleanor');
    const user = await registered(GOOD_PASSWORD, email);
    const hash = jest.spyOn(hasher, 'hash');
    expect(await service.checkNewPassword(user.id, 'a fine new passphrase')).toEqual({ ok: true });
    expect(await service.checkNewPassword(user.id, `${email.split('@')[0]}1234`)).toEqual({
      ok: false,
      reason: 'PASSWORD_REJECTED',
      detail: expect.stringContaining('before the @'),
    });
    expect(await service.checkNewPassword(user.id, 'z'.repeat(10_000))).toEqual({ ok: false, reason: 'PASSWORD_REJECTED', detail: expect.any(String) });
    expect(await service.checkNewPassword('00000000-0000-4000-8000-000000000000', 'a fine new passphrase')).toEqual({ ok: false, reason: 'NOT_FOUND' });
    expect(hash).not.toHaveBeenCalled();
    expect(await service.verify(email, GOOD_PASSWORD)).not.toBeNull();
  });

  it('resetPassword sets a new password without the current one, under the policy', async () => {
    const user = await registered();
    expect(await service.resetPassword(user.id, 'iloveyou')).toEqual({ ok: false, reason: 'PASSWORD_REJECTED', detail: expect.stringContaining('too common') });
    expect(await service.verify(user.email, GOOD_PASSWORD)).not.toBeNull();
    expect(await service.resetPassword(user.id, 'a brand new passphrase')).toEqual({ ok: true });
    expect(await service.verify(user.email, GOOD_PASSWORD)).toBeNull();
    expect(await service.verify(user.email, 'a brand new passphrase')).toEqual({ id: user.id, emailVerified: false });
    expect(await service.resetPassword('nope', 'a brand new passphrase')).toEqual({ ok: false, reason: 'NOT_FOUND' });
  });
});

describe('PasswordHasher', () => {
  it('hashes and verifies off the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const start = performance.now();
    const phc = await hasher.hash(GOOD_PASSWORD);
    await hasher.verify(phc, GOOD_PASSWORD);
    const elapsed = performance.now() - start;
    clearInterval(timer);
    // A blocking implementation lets no timer fire until both calls are done.
    expect(elapsed).toBeGreaterThan(5);
    expect(ticks).toBeGreaterThan(1);
  });

  it('verifies the right password only', async () => {
    const phc = await hasher.hash('ünïcødé pässwörd');
    expect(await hasher.verify(phc, 'ünïcødé pässwörd')).toBe(true);
    expect(await hasher.verify(phc, 'unicode password')).toBe(false);
  });
});
