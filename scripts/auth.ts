/**
 * The operators' admin CLI, against the configured Redis and database (the server's environment:
 * REDIS_URL, DATABASE_URL or EMBEDDED_DATA_DIR, key paths). Every action is audited, with
 * `operator` = AUTH_OPERATOR or the OS user, in the configured log.
 *
 *   npm run auth -- sessions <email>               a user's live sessions
 *   npm run auth -- revoke <email> <session id>    end one session (and its access tokens)
 *   npm run auth -- revoke <email> --all           end every session of the user
 *   npm run auth -- unlock <email>                 lift the account's login lockout
 *   npm run keys -- generate | rotate [--promote] | list    signing keys (scripts/keys.ts)
 */
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { userInfo } from 'node:os';
import type { Logger } from 'pino';
import { AuthModule, SessionAdminService } from '../src/auth';
import { APP_CONFIG, authOptionsFromConfig, ConfigError, ConfigModule, loadConfig, type AppConfig } from '../src/config';
import { LoggingModule, ROOT_LOGGER } from '../src/logging/logging.module';
import { USER_REPOSITORY, UsersModule, type UserRepository } from '../src/users';

const USAGE = [
  'usage: npm run auth -- sessions <email> | revoke <email> <session id>|--all | unlock <email>',
  '       signing keys: npm run keys -- generate | rotate [--promote] | list',
].join('\n');

class UsageError extends Error {}

function operatorName(env: NodeJS.ProcessEnv): string {
  const name = env.AUTH_OPERATOR ?? userInfo().username;
  if (!/^[\w.@-]{1,64}$/.test(name)) throw new UsageError('AUTH_OPERATOR: 1-64 characters of [A-Za-z0-9_.@-]');
  return name;
}

async function boot(config: AppConfig): Promise<INestApplicationContext> {
  // The application's stores and users table, without its HTTP side.
  @Module({
    imports: [
      ConfigModule.withConfig(config),
      LoggingModule,
      AuthModule.forRootAsync({
        imports: [UsersModule, LoggingModule],
        inject: [APP_CONFIG, ROOT_LOGGER],
        globalGuard: false,
        useFactory: (c: AppConfig, logger: Logger) => ({ ...authOptionsFromConfig(c), auditLogger: logger }),
      }),
    ],
  })
  class AdminModule {}
  return NestFactory.createApplicationContext(AdminModule, { logger: ['fatal', 'error'] });
}

async function run(argv: readonly string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<void> {
  const [command, email, arg, ...rest] = argv;
  const shapes: Record<string, boolean> = {
    sessions: email !== undefined && arg === undefined,
    revoke: email !== undefined && arg !== undefined && rest.length === 0,
    unlock: email !== undefined && arg === undefined,
  };
  if (command === 'keys') throw new UsageError('the keys commands are `npm run keys -- generate | rotate [--promote] | list`');
  if (command === undefined || !shapes[command]) throw new UsageError(USAGE);
  const operator = operatorName(env);
  const app = await boot(loadConfig(env));
  try {
    const user = await app.get<UserRepository>(USER_REPOSITORY).findByEmail(email!);
    if (!user) throw new UsageError(`no account with the email ${JSON.stringify(email)}`);
    const admin = app.get(SessionAdminService);
    switch (command) {
      case 'sessions': {
        const list = await admin.listSessions(user.id, operator);
        out(`${list.length} live session(s) of user ${user.id}`);
        for (const s of list) out([s.id, s.kind.padEnd(7), `created ${s.createdAt}`, `last used ${s.lastUsedAt}`, s.deviceLabel].join('  '));
        return;
      }
      case 'revoke': {
        const all = arg === '--all';
        if (all) await admin.revokeAllSessions(user.id, operator);
        else if (!(await admin.revokeSession(user.id, arg!, operator))) throw new UsageError(`no live session ${arg} of user ${user.id}`);
        out(all ? `every session of user ${user.id} revoked` : `session ${arg} of user ${user.id} revoked`);
        return;
      }
      default:
        await admin.unlockAccount(user.id, operator);
        out(`account of user ${user.id} unlocked`);
    }
  } finally {
    await app.close();
  }
}

run(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`)).catch((e: unknown) => {
  // One line, no stack trace, for what the operator can fix.
  if (e instanceof UsageError || e instanceof ConfigError) {
    process.stderr.write(`auth: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`auth: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
