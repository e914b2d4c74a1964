import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { CREDENTIALS_PORT, type CredentialsPort } from '../../src/auth';
import { ConfigModule, loadConfig } from '../../src/config';
import { SQL_CLIENT, USER_REPOSITORY, UsersModule, type SqlClient, type UserRepository } from '../../src/users';
import { closeSharedPglite, sharedPglite } from '../support/pglite';
import { createTestDatabase } from '../support/postgres';

const PASSWORD = 'correct horse battery staple';

function usersModule(env: Record<string, string>) {
  return Test.createTestingModule({ imports: [ConfigModule.withConfig(loadConfig(env)), UsersModule] });
}

describe('UsersModule wiring', () => {
  afterAll(() => closeSharedPglite());

  it('runs on an overridden SqlClient, exports both tokens, and leaves that client open', async () => {
    const client: SqlClient = await sharedPglite();
    const moduleRef = await usersModule({ EMBEDDED_DATA_DIR: '/nonexistent/never-opened' })
      .overrideProvider(SQL_CLIENT)
      .useValue(client)
      .compile();
    const credentials = moduleRef.get<CredentialsPort>(CREDENTIALS_PORT);
    const repo = moduleRef.get<UserRepository>(USER_REPOSITORY);

    const registered = await credentials.register('Wiring@Example.com', PASSWORD);
    expect(registered).toEqual({ ok: true, user: { id: expect.any(String), email: 'Wiring@Example.com' } });
    if (!registered.ok) return;
    expect(await credentials.verify('wiring@example.com', PASSWORD)).toEqual({ id: registered.user.id, emailVerified: false });
    expect((await repo.findById(registered.user.id))?.email).toBe('Wiring@Example.com');

    await moduleRef.close();
    // The test owns the client: the module's shutdown must not have closed it.
    await expect(client.query('SELECT 1 AS one')).resolves.toEqual({ rows: [{ one: 1 }] });
  }, 60_000);

  it('persists the embedded database under EMBEDDED_DATA_DIR (created if missing) across restarts', async () => {
    const root = mkdtempSync(join(tmpdir(), 'users-module-'));
    const dataDir = join(root, 'nested', 'data');
    let moduleRef: TestingModule | undefined;
    try {
      moduleRef = await usersModule({ EMBEDDED_DATA_DIR: dataDir }).compile();
      const registered = await moduleRef.get<CredentialsPort>(CREDENTIALS_PORT).register('persist@example.com', PASSWORD);
      expect(registered.ok).toBe(true);
      await moduleRef.close();

      // A second boot on the same directory: the migration is idempotent and the account is there.
      moduleRef = await usersModule({ EMBEDDED_DATA_DIR: dataDir }).compile();
      const verified = await moduleRef.get<CredentialsPort>(CREDENTIALS_PORT).verify('persist@example.com', PASSWORD);
      expect(verified).toEqual({ id: registered.ok ? registered.user.id : 'unreachable', emailVerified: false });
    } finally {
      await moduleRef?.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  it('uses PostgreSQL when DATABASE_URL is set, and closes its pool on shutdown', async () => {
    const db = await createTestDatabase();
    try {
      const moduleRef = await usersModule({ DATABASE_URL: db.url, EMBEDDED_DATA_DIR: '/nonexistent/never-opened' }).compile();
      const credentials = moduleRef.get<CredentialsPort>(CREDENTIALS_PORT);
      const registered = await credentials.register('pg@example.com', PASSWORD);
      expect(registered.ok).toBe(true);
      expect(await credentials.verify('PG@example.com', PASSWORD)).toEqual({ id: registered.ok ? registered.user.id : '', emailVerified: false });
      const client = moduleRef.get<SqlClient>(SQL_CLIENT);
      await moduleRef.close();
      await expect(client.query('SELECT 1')).rejects.toThrow();
    } finally {
      await db.drop();
    }
  }, 60_000);

  it('fails the boot with a clear message, and no dangling pool, when PostgreSQL is unreachable', async () => {
    await expect(usersModule({ DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/none' }).compile()).rejects.toThrow(
      /^Users: could not prepare the users table on PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none: /,
    );
  }, 30_000);
});
