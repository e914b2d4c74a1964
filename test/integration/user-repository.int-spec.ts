import { createPgClient } from '../../src/users';
import { SqlUserRepository } from '../../src/users/user-repository.sql';
import { userRepositoryContract } from '../contracts/user-repository.contract';
import { closeSharedPglite, sharedPglite } from '../support/pglite';
import { createTestDatabase } from '../support/postgres';

userRepositoryContract('SQL adapter on PGlite (in memory)', async () => {
  const repo = new SqlUserRepository(await sharedPglite());
  await repo.migrate();
  return { repo, cleanup: closeSharedPglite };
});

// No skip when the server is down: createTestDatabase throws a clear error and every test fails.
userRepositoryContract('SQL adapter on PostgreSQL', async () => {
  const db = await createTestDatabase();
  const client = createPgClient(db.url);
  try {
    const repo = new SqlUserRepository(client);
    await repo.migrate();
    // Idempotent: a second boot against the same database must not fail.
    await repo.migrate();
    return {
      repo,
      async cleanup() {
        await client.close();
        await db.drop();
      },
    };
  } catch (err) {
    await client.close();
    await db.drop();
    throw err;
  }
});

describe('SqlUserRepository.migrate on a users table from before email verification', () => {
  it('adds email_verified (false for existing accounts), keeps the rows, and is idempotent', async () => {
    const db = await createTestDatabase();
    const client = createPgClient(db.url);
    try {
      await client.exec(`
        CREATE TABLE users (
          id uuid PRIMARY KEY, email text NOT NULL CONSTRAINT users_email_key UNIQUE, password_hash text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO users (id, email, password_hash) VALUES ('6f1c2e4a-0b7d-4c3e-9a5f-1e2d3c4b5a69', 'old@example.com', 'h');`);
      const repo = new SqlUserRepository(client);
      await repo.migrate();
      await repo.migrate();
      expect(await repo.findByEmail('old@example.com')).toMatchObject({ id: '6f1c2e4a-0b7d-4c3e-9a5f-1e2d3c4b5a69', emailVerified: false, passwordHash: 'h' });
      expect(await repo.markEmailVerified('6f1c2e4a-0b7d-4c3e-9a5f-1e2d3c4b5a69', 'old@example.com')).toBe(true);
      await repo.migrate();
      expect((await repo.findByEmail('old@example.com'))?.emailVerified).toBe(true);
    } finally {
      await client.close();
      await db.drop();
    }
  });
});
