/** Public face of the users module. Auth depends on CREDENTIALS_PORT (from auth), not on this. */
export { UsersModule, SQL_CLIENT } from './users.module';
export { USER_REPOSITORY } from './user.repository';
export type { User, UserWithPasswordHash, NewUser, CreateUserResult, UserRepository } from './user.repository';
export { createPgClient, createPgliteClient, IN_MEMORY } from './sql-client';
export type { SqlClient } from './sql-client';
export { InvalidEmailError } from './email-address';
export { UsersReadiness } from './users-readiness.service';
