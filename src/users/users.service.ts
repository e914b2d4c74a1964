import { hash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AccountView, ChangePasswordResult, CredentialsPort, NewPasswordResult, RegisterResult, VerifiedUser } from '../auth';
import { InvalidEmailError, isValidEmail, normaliseEmail } from './email-address';
import { PasswordHasher } from './password-hasher';
import { passwordPolicyViolation, preparePassword, type PreparedPassword } from './password-policy';
import { USER_REPOSITORY, type UserRepository, type UserWithPasswordHash } from './user.repository';

/**
 * Stands in for the password when the input is refused unhashed (too long, not a string): the
 * dummy verification still runs, on a short constant, so a refusal costs one hash like any other.
 */
const PLACEHOLDER_PASSWORD = 'x';

/** Accounts and passwords, behind the port auth depends on. No HTTP concepts in here. */
@Injectable()
export class UsersService implements CredentialsPort {
  constructor(
    @Inject(USER_REPOSITORY) private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * Exactly one argon2 verification on every path (unknown email, overlong input, wrong or right
   * password), so the answer time does not say which part was wrong. Null for any failure.
   */
  async verify(email: string, password: string): Promise<VerifiedUser | null> {
    const normalised = normaliseEmail(email);
    const prepared = preparePassword(password);
    const user = normalised !== null && prepared.ok ? await this.users.findByEmail(normalised) : null;
    const ok = await this.hasher.verify(
      user?.passwordHash ?? this.hasher.dummyHash,
      prepared.ok ? prepared.value : PLACEHOLDER_PASSWORD,
    );
    return user && ok ? { id: user.id, emailVerified: user.emailVerified } : null;
  }

  /**
   * @throws InvalidEmailError when the address fails the format check: the port has no result for
   *   it, so the caller is expected to have validated the request body already.
   */
  async register(email: string, password: string): Promise<RegisterResult> {
    const normalised = normaliseEmail(email);
    if (normalised === null || !isValidEmail(normalised)) throw new InvalidEmailError();
    const prepared = preparePassword(password);
    if (!prepared.ok) return { ok: false, reason: 'PASSWORD_REJECTED', detail: prepared.detail };
    const violation = passwordPolicyViolation(prepared.value, normalised);
    if (violation) return { ok: false, reason: 'PASSWORD_REJECTED', detail: violation };
    // Hash before the insert: a taken email then costs the same as a new one.
    // The repository keys the account by the normalised address and keeps what the user typed for display.
    const created = await this.users.create({ email, passwordHash: await this.hasher.hash(prepared.value) });
    return created.ok ? { ok: true, user: { id: created.user.id, email: created.user.email } } : created;
  }

  async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<ChangePasswordResult> {
    const current = preparePassword(currentPassword);
    const user = current.ok ? await this.users.findById(userId) : null;
    const ok = await this.hasher.verify(
      user?.passwordHash ?? this.hasher.dummyHash,
      current.ok ? current.value : PLACEHOLDER_PASSWORD,
    );
    if (!user || !ok) return { ok: false, reason: 'INVALID_CREDENTIALS' };
    const result = await this.setPassword(user, newPassword);
    // The account vanished between the check and the write: the same answer as an unknown one.
    return result.ok || result.reason === 'PASSWORD_REJECTED' ? result : { ok: false, reason: 'INVALID_CREDENTIALS' };
  }

  async accountByEmail(email: string): Promise<AccountView | null> {
    const normalised = normaliseEmail(email);
    return normalised === null ? null : accountView(await this.users.findByEmail(normalised));
  }

  async accountById(userId: string): Promise<AccountView | null> {
    return accountView(await this.users.findById(userId));
  }

  markEmailVerified(userId: string, email: string): Promise<boolean> {
    return this.users.markEmailVerified(userId, email);
  }

  async checkNewPassword(userId: string, newPassword: string): Promise<NewPasswordResult> {
    const user = await this.users.findById(userId);
    if (!user) return { ok: false, reason: 'NOT_FOUND' };
    const checked = acceptedPassword(newPassword, user.email);
    return checked.ok ? { ok: true } : { ok: false, reason: 'PASSWORD_REJECTED', detail: checked.detail };
  }

  async resetPassword(userId: string, newPassword: string): Promise<NewPasswordResult> {
    const user = await this.users.findById(userId);
    return user ? this.setPassword(user, newPassword) : { ok: false, reason: 'NOT_FOUND' };
  }

  /** The policy, then the new hash. */
  private async setPassword(user: UserWithPasswordHash, newPassword: string): Promise<NewPasswordResult> {
    const checked = acceptedPassword(newPassword, user.email);
    if (!checked.ok) return { ok: false, reason: 'PASSWORD_REJECTED', detail: checked.detail };
    const updated = await this.users.updatePasswordHash(user.id, await this.hasher.hash(checked.value));
    return updated ? { ok: true } : { ok: false, reason: 'NOT_FOUND' };
  }
}

/** A new password for this address in the form it is hashed in, or why the policy refuses it. */
function acceptedPassword(password: string, normalisedEmail: string): PreparedPassword {
  const prepared = preparePassword(password);
  if (!prepared.ok) return prepared;
  const violation = passwordPolicyViolation(prepared.value, normalisedEmail);
  return violation === null ? prepared : { ok: false, detail: violation };
}

function accountView(user: UserWithPasswordHash | null): AccountView | null {
  if (!user) return null;
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerified,
    // Each hash has its own salt: a new password, even the same one, gives a new stamp.
    passwordStamp: hash('sha256', user.passwordHash, 'base64url').slice(0, 22),
  };
}
