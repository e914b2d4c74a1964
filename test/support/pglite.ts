import { createPgliteClient, IN_MEMORY, type SqlClient } from '../../src/users';

/**
 * One in-memory PGlite per module registry. Jest gives every test file its own registry, so in
 * practice this is one instance per test file (a worker runs one file at a time): start it in
 * beforeAll, close it in afterAll. Each instance costs ~2-3 s to start and a few hundred MB of RSS,
 * which is why a file shares one instead of starting one per test.
 */
let shared: Promise<SqlClient> | undefined;

export function sharedPglite(): Promise<SqlClient> {
  shared ??= createPgliteClient(IN_MEMORY);
  return shared;
}

export async function closeSharedPglite(): Promise<void> {
  const pending = shared;
  shared = undefined;
  if (pending) await (await pending).close();
}
