import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { CREDENTIALS_PORT } from '../auth';
import { APP_CONFIG, type AppConfig } from '../config';
import { PasswordHasher } from './password-hasher';
import { createPgClient, createPgliteClient, redactUrl, type SqlClient } from './sql-client';
import { USER_REPOSITORY } from './user.repository';
import { SqlUserRepository } from './user-repository.sql';
import { UsersService } from './users.service';
import { UsersReadiness } from './users-readiness.service';
import { SQL_CLIENT } from './users.module-tokens';

export { SQL_CLIENT };

// Clients this module opened itself, hence must close. An overridden client is never in here.
const ownedClients = new WeakSet<SqlClient>();

async function openConfiguredClient(config: AppConfig): Promise<SqlClient> {
  const logger = new Logger('UsersModule');
  let client: SqlClient;
  if (config.databaseUrl) {
    logger.log(`User database: PostgreSQL at ${redactUrl(config.databaseUrl)}`);
    client = createPgClient(config.databaseUrl);
  } else {
    logger.log(`User database: embedded PGlite (${config.embeddedDataDir === ':memory:' ? 'in memory' : config.embeddedDataDir})`);
    client = await createPgliteClient(config.embeddedDataDir);
  }
  ownedClients.add(client);
  return client;
}

/** Runs the idempotent migration before anything can use the repository. */
async function migratedRepository(client: SqlClient, config: AppConfig): Promise<SqlUserRepository> {
  const repo = new SqlUserRepository(client);
  try {
    await repo.migrate();
  } catch (err) {
    // A failed boot must not leave a pool open (it would keep the process, or jest, alive).
    if (ownedClients.has(client)) await client.close().catch(() => undefined);
    const where = config.databaseUrl ? `PostgreSQL at ${redactUrl(config.databaseUrl)}` : 'the embedded database';
    throw new Error(`Users: could not prepare the users table on ${where}: ${(err as Error).message}`, { cause: err });
  }
  return repo;
}

/**
 * Accounts and password hashes. Provides CREDENTIALS_PORT (what auth depends on) and
 * USER_REPOSITORY. PostgreSQL when DATABASE_URL is set, else embedded PGlite at EMBEDDED_DATA_DIR.
 */
@Module({
  providers: [
    { provide: SQL_CLIENT, inject: [APP_CONFIG], useFactory: openConfiguredClient },
    { provide: USER_REPOSITORY, inject: [SQL_CLIENT, APP_CONFIG], useFactory: migratedRepository },
    // Async so the dummy hash exists before the first login can need it.
    { provide: PasswordHasher, useFactory: () => PasswordHasher.create() },
    UsersService,
    { provide: CREDENTIALS_PORT, useExisting: UsersService },
    UsersReadiness,
  ],
  exports: [CREDENTIALS_PORT, USER_REPOSITORY, UsersReadiness],
})
export class UsersModule implements OnApplicationShutdown {
  constructor(@Inject(SQL_CLIENT) private readonly client: SqlClient) {}

  // Application shutdown, not module destroy: other modules' destroy hooks may still read users.
  async onApplicationShutdown(): Promise<void> {
    if (ownedClients.has(this.client)) await this.client.close();
  }
}
