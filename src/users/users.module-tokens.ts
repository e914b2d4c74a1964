/**
 * DI token of the SqlClient the users adapter runs on. Tests inject their own with
 * `Test.createTestingModule({ imports: [UsersModule] }).overrideProvider(SQL_CLIENT).useValue(client)`;
 * the module then never opens a connection, and never closes that client either (the test owns it).
 */
export const SQL_CLIENT = Symbol('SQL_CLIENT');
