/**
 * Storage port for accounts. Emails are unique by their normalised form (trimmed, NFKC,
 * case-folded) and shown as the user typed them; every method normalises the email it is given,
 * so callers may pass what the user typed.
 * Ids are random UUIDs (v4).
 */
export const USER_REPOSITORY = Symbol('USER_REPOSITORY');

export interface User {
  readonly id: string;
  /** As the user typed it (trimmed). */
  readonly email: string;
  /** Whether the owner of the address proved it (followed a verification link). */
  readonly emailVerified: boolean;
  readonly createdAt: Date;
}

export interface UserWithPasswordHash extends User {
  readonly passwordHash: string;
}

export interface NewUser {
  readonly email: string;
  readonly passwordHash: string;
}

/** A duplicate email is an expected outcome, not an exception. */
export type CreateUserResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly reason: 'EMAIL_TAKEN' };

export interface UserRepository {
  create(user: NewUser): Promise<CreateUserResult>;
  findByEmail(email: string): Promise<UserWithPasswordHash | null>;
  /** Null for an unknown id, including one that is not a UUID at all. */
  findById(id: string): Promise<UserWithPasswordHash | null>;
  /** False when no user has this id. */
  updatePasswordHash(id: string, passwordHash: string): Promise<boolean>;
  /** Marks the address verified when the user with this id still has this email; false otherwise. */
  markEmailVerified(id: string, email: string): Promise<boolean>;
}
