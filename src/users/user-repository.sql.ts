import { randomUUID } from 'node:crypto';
import { displayEmail, normaliseEmail } from './email-address';
import type { SqlClient } from './sql-client';
import type { CreateUserResult, NewUser, User, UserRepository, UserWithPasswordHash } from './user.repository';

/**
 * Idempotent schema, run at every boot. The transaction-scoped advisory lock serialises
 * instances booting together: concurrent CREATE TABLE IF NOT EXISTS can otherwise fail on
 * PostgreSQL's catalog unique index. `exec` sends it as one simple query, hence one transaction.
 * Columns added later are added only when missing: ALTER TABLE takes an exclusive lock on the
 * table even when IF NOT EXISTS makes it a no-op, and this runs at every boot of every instance.
 */
const MIGRATION = `
SELECT pg_advisory_xact_lock(hashtext('auth-domain:users:migrate'));
CREATE TABLE IF NOT EXISTS users (
  id            uuid        PRIMARY KEY,
  email         text        NOT NULL CONSTRAINT users_email_key UNIQUE
                            CONSTRAINT users_email_length CHECK (char_length(email) <= 254),
  password_hash text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- email is the normalised, unique key; display_email what the user typed (null: same as email).
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'users' AND column_name = 'display_email') THEN
    ALTER TABLE users ADD COLUMN display_email text;
  END IF;
END $$;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = 'users' AND column_name = 'email_verified') THEN
    ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
  END IF;
END $$;
`;

/** Fails the boot clearly when a pre-existing `users` table (e.g. the host's) lacks our columns. */
const SCHEMA_PROBE = 'SELECT id, email, password_hash, email_verified, created_at, updated_at FROM users LIMIT 0';

// PostgreSQL rejects a malformed uuid literal with an error; an unknown id is simply "not found".
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface UserRow {
  id: string;
  email: string;
  display_email: string | null;
  password_hash: string;
  email_verified: boolean;
  created_at: Date | string;
}

const COLUMNS = 'id, email, display_email, password_hash, email_verified, created_at';

/** The one SQL adapter of UserRepository: PostgreSQL in production, PGlite when embedded. */
export class SqlUserRepository implements UserRepository {
  constructor(private readonly sql: SqlClient) {}

  async migrate(): Promise<void> {
    await this.sql.exec(MIGRATION);
    await this.sql.query(SCHEMA_PROBE);
  }

  async create(input: NewUser): Promise<CreateUserResult> {
    const email = normaliseEmail(input.email);
    if (email === null) throw new RangeError('create: email is empty or longer than 254 characters');
    // ON CONFLICT (email) only: an id collision must still raise, not pass for a taken email.
    const { rows } = await this.sql.query<UserRow>(
      `INSERT INTO users (id, email, display_email, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING
       RETURNING ${COLUMNS}`,
      [randomUUID(), email, displayEmail(input.email), input.passwordHash],
    );
    const row = rows[0];
    return row ? { ok: true, user: toUser(row) } : { ok: false, reason: 'EMAIL_TAKEN' };
  }

  async findByEmail(rawEmail: string): Promise<UserWithPasswordHash | null> {
    const email = normaliseEmail(rawEmail);
    if (email === null) return null;
    const { rows } = await this.sql.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
    return rows[0] ? toUserWithHash(rows[0]) : null;
  }

  async findById(id: string): Promise<UserWithPasswordHash | null> {
    if (!UUID_SHAPE.test(id)) return null;
    const { rows } = await this.sql.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0] ? toUserWithHash(rows[0]) : null;
  }

  async updatePasswordHash(id: string, passwordHash: string): Promise<boolean> {
    if (!UUID_SHAPE.test(id)) return false;
    const { rows } = await this.sql.query<{ id: string }>(
      'UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 RETURNING id',
      [id, passwordHash],
    );
    return rows.length === 1;
  }

  async markEmailVerified(id: string, rawEmail: string): Promise<boolean> {
    const email = normaliseEmail(rawEmail);
    if (!UUID_SHAPE.test(id) || email === null) return false;
    const { rows } = await this.sql.query<{ id: string }>(
      'UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1 AND email = $2 RETURNING id',
      [id, email],
    );
    return rows.length === 1;
  }
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.display_email ?? row.email,
    emailVerified: row.email_verified === true,
    // Both drivers parse timestamptz to Date; the fallback covers a client with custom parsers.
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
  };
}

function toUserWithHash(row: UserRow): UserWithPasswordHash {
  return { ...toUser(row), passwordHash: row.password_hash };
}
