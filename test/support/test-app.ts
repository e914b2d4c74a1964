import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleLogger, type INestApplication, type LoggerService, type LogLevel, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import request from 'supertest';
import type { Response } from 'supertest';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { CLOCK } from '../../src/auth';
import { APP_CONFIG, loadConfig, type AppConfig } from '../../src/config';
import { LOG_DESTINATION } from '../../src/logging/logging.module';
import type { FakeClock } from './fake-clock';
import { createTestDatabase } from './postgres';
import { startRedis, type RedisHarness } from './redis-server';

export interface TestAppOptions {
  /** Extra environment for loadConfig. A value given here wins over what the helper generates. */
  env?: Record<string, string>;
  /** true: a private redis-server for this app (none when env names REDIS_CLUSTER_NODES or REDIS_SENTINELS); a string: that REDIS_URL (shared); false: in-memory stores. Default true. */
  redis?: boolean | string;
  /** 'postgres': a fresh database (unless env.DATABASE_URL is given); 'embedded': in-memory PGlite. Default 'postgres'. */
  database?: 'postgres' | 'embedded';
  clock?: FakeClock;
  /** Extra modules next to AppModule (e.g. a feature module consuming the auth context). */
  imports?: Array<Type<unknown>>;
  /** false: a host that mounts no body parsers (auth reads its own bodies). Default: Nest's default parsers, as main.ts. */
  bodyParser?: boolean;
  /** Where the app's pino lines (audit trail included) go; default: stdout. Set LOG_LEVEL in env to see info lines. */
  logDestination?: { write(line: string): void };
  /** Nest's logger (default: the console, fatal and error lines only). A suite that provokes errors passes a RecordingLogger and asserts on them. */
  logger?: LoggerService;
}

export interface TestApp {
  readonly app: INestApplication;
  /** The listening HTTP server: the target for supertest's `request(http)`. */
  readonly http: Server;
  readonly config: AppConfig;
  /** The private redis-server, when `redis: true`. */
  readonly redis?: RedisHarness;
  /** The env the config was loaded from (key paths, URLs), to boot a second instance on the same state. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

const LOG_LEVELS: LogLevel[] = process.env.E2E_LOG ? ['fatal', 'error', 'warn', 'log'] : ['fatal', 'error'];

/**
 * Boots the real AppModule the way main.ts does (configureApp, Nest's default body parsers), with its
 * configuration built from `opts.env` only (never the developer's process.env), signing keys in a
 * fresh temporary directory (development keys are generated there), and real stores.
 *
 * The server listens on an ephemeral loopback port: supertest then reuses that one server instead
 * of starting and closing one per request, which parallel requests need.
 */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const cleanups: Array<() => Promise<void> | void> = [];
  const runCleanups = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // keep cleaning
      }
    }
    cleanups.length = 0;
  };
  try {
    const keysDir = mkdtempSync(join(tmpdir(), 'e2e-keys-'));
    cleanups.push(() => rmSync(keysDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent', // the audit trail ignores levels other than silent: keep test output clean
      JWT_PRIVATE_KEY_PATH: join(keysDir, 'private.pem'),
      JWT_PUBLIC_KEY_PATH: join(keysDir, 'public.pem'),
      AUTH_COOKIE_SECURE: 'true',
      // Generous: suites that test the rate limit set their own.
      AUTH_RATE_LIMIT_MAX: '100000',
      // The suites refresh without repeating the login's User-Agent; device binding has its own suite.
      AUTH_DEVICE_BINDING: 'off',
    };

    let redis: RedisHarness | undefined;
    const redisOpt = opts.redis ?? true;
    if (opts.env?.REDIS_URL === undefined && opts.env?.REDIS_CLUSTER_NODES === undefined && opts.env?.REDIS_SENTINELS === undefined) {
      if (redisOpt === true) {
        const harness = await startRedis();
        redis = harness;
        cleanups.push(() => harness.stop());
        env.REDIS_URL = harness.url;
      } else if (typeof redisOpt === 'string') {
        env.REDIS_URL = redisOpt;
      }
    }

    if ((opts.database ?? 'postgres') === 'embedded') {
      env.EMBEDDED_DATA_DIR = ':memory:';
    } else if (opts.env?.DATABASE_URL === undefined) {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      env.DATABASE_URL = db.url;
    }

    Object.assign(env, opts.env ?? {});
    const config = loadConfig(env);
    const logger = opts.logger ?? new ConsoleLogger('e2e', { logLevels: LOG_LEVELS });

    let builder = Test.createTestingModule({ imports: [AppModule, ...(opts.imports ?? [])] })
      .setLogger(logger)
      .overrideProvider(APP_CONFIG)
      .useValue(config);
    if (opts.clock) builder = builder.overrideProvider(CLOCK).useValue(opts.clock);
    if (opts.logDestination) builder = builder.overrideProvider(LOG_DESTINATION).useValue(opts.logDestination);
    const moduleRef = await builder.compile();

    const app = moduleRef.createNestApplication({ logger, bodyParser: opts.bodyParser ?? true });
    // Cleanups run in reverse: the app closes its Redis and database connections first, before
    // the redis-server or the database behind them go away.
    let appClosed = false;
    const closeApp = async (): Promise<void> => {
      if (appClosed) return;
      appClosed = true;
      await app.close();
    };
    cleanups.push(closeApp);
    configureApp(app, config);
    await app.init();
    await app.listen(0, '127.0.0.1');
    const http = app.getHttpServer() as Server;

    let closing: Promise<void> | undefined;
    return {
      app,
      http,
      config,
      redis,
      env,
      close: () => (closing ??= runCleanups()),
    };
  } catch (e) {
    await runCleanups();
    throw e;
  }
}

// --- helpers shared by the e2e suites ---------------------------------------------------------

/** A password the policy accepts. */
export const PASSWORD = 'correct horse battery staple 42';

export const CHROME_ON_MACOS =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
export const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

export const REFRESH_COOKIE = '__Secure-refresh_token';

/** An address nobody else in the run uses. */
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${randomBytes(6).toString('hex')}@example.com`;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export interface LoggedIn {
  readonly email: string;
  readonly userId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly sid: string;
}

export async function register(http: Server, email = uniqueEmail(), password = PASSWORD): Promise<{ id: string; email: string }> {
  const res = await request(http).post('/auth/register').send({ email, password });
  if (res.status !== 201) throw new Error(`register ${email}: ${res.status} ${res.text}`);
  return res.body as { id: string; email: string };
}

/** Logs in with the refresh token in the body (the native-client profile), so tests can hold many sessions. */
export async function login(http: Server, email: string, opts: { password?: string; userAgent?: string } = {}): Promise<LoggedIn> {
  let req = request(http).post('/auth/login');
  if (opts.userAgent) req = req.set('User-Agent', opts.userAgent);
  const res = await req.send({ email, password: opts.password ?? PASSWORD, refreshTokenDelivery: 'body' });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
  const claims = decodeJwt(res.body.accessToken).payload;
  return {
    email,
    userId: claims.sub as string,
    accessToken: res.body.accessToken as string,
    refreshToken: res.body.refreshToken as string,
    sid: claims.sid as string,
  };
}

export async function registerAndLogin(http: Server, opts: { tag?: string; userAgent?: string } = {}): Promise<LoggedIn> {
  const { email } = await register(http, uniqueEmail(opts.tag));
  return login(http, email, { userAgent: opts.userAgent });
}

/** POST /auth/refresh with the token in the body. */
export function refreshViaBody(http: Server, refreshToken: string): request.Test {
  return request(http).post('/auth/refresh').send({ refreshToken });
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
  };
}

export function setCookies(res: Response): string[] {
  const raw = res.headers['set-cookie'] as unknown;
  if (raw === undefined) return [];
  return Array.isArray(raw) ? (raw as string[]) : [String(raw)];
}

export interface ParsedCookie {
  readonly name: string;
  readonly value: string;
  /** Attribute names lower-cased; flag attributes map to ''. */
  readonly attributes: Readonly<Record<string, string>>;
}

export function parseSetCookie(header: string): ParsedCookie {
  const [pair, ...attrs] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const a of attrs) {
    const i = a.indexOf('=');
    attributes[(i < 0 ? a : a.slice(0, i)).toLowerCase()] = i < 0 ? '' : a.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: decodeURIComponent(pair.slice(eq + 1)), attributes };
}

/** The refresh cookie a response sets, if any. */
export function refreshCookieOf(res: Response, name = REFRESH_COOKIE): ParsedCookie | undefined {
  return setCookies(res)
    .map(parseSetCookie)
    .find((c) => c.name === name);
}

/** Asserts a problem+json error with the given status and code; returns the body. */
export function expectProblem(res: Response, status: number, code: string): Record<string, unknown> {
  const summary = `${res.status} ${res.headers['content-type']} ${res.text}`;
  if (res.status !== status || !/^application\/problem\+json/.test(String(res.headers['content-type'])) || res.body?.code !== code) {
    throw new Error(`expected ${status} ${code} as problem+json, got ${summary}`);
  }
  const body = res.body as Record<string, unknown>;
  expect(body).toEqual(expect.objectContaining({ status, code, title: expect.any(String), type: expect.any(String) }));
  // Never a stack trace or an internal message.
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+|Error:|stack/i);
  return body;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns whether it became true. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}
