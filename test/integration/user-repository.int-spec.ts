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
