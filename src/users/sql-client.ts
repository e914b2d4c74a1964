import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { Pool } from 'pg';
import { AuthError } from '../auth';

/**
 * The few SQL capabilities the users adapter needs, so one adapter runs on PostgreSQL (`pg` Pool)
 * and on embedded PGlite alike. Keep it this small: anything driver-specific stays in here.
 */
export interface SqlClient {
  /** One parameterised statement ($1, $2, …). */
  query<R extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /**
   * A parameterless script of one or more statements, sent with the simple-query protocol so
   * PostgreSQL runs it as one implicit transaction (used by migrations, see user-repository.sql).
   */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** The value of `embeddedDataDir` that keeps the embedded database in memory only. */
export const IN_MEMORY = ':memory:';

/** A PostgreSQL connection string with any password replaced, safe for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable database url>';
  }
}

/**
 * Errors that mean "the database cannot answer now" (down, restarting, overloaded, timed out)
 * become STORE_UNAVAILABLE (503 + Retry-After); anything else is a bug and stays internal.
 */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    /^(08|53|57P0)/.test(code) ||
    code === '57014' ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code) ||
    /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/i.test(message)
  );
}

async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (isUnavailable(e)) throw new AuthError('STORE_UNAVAILABLE', { retryAfter: 5, cause: e });
    throw e;
  }
}

export function createPgClient(url: string, options: { max?: number } = {}): SqlClient {
  const pool = new Pool({
    connectionString: url,
    max: options.max ?? 10,
    // Fail fast instead of hanging the boot or a login on an unreachable server.
    connectionTimeoutMillis: 5_000,
    // Every users statement is a single-row lookup; anything slower than this is an outage.
    statement_timeout: 10_000,
  });
  const logger = new Logger('UsersDatabase');
  // An idle client losing its connection emits 'error' on the pool; unhandled, it kills the process.
  pool.on('error', (err) => logger.error(`PostgreSQL idle client error: ${err.message}`));
  let closed: Promise<void> | undefined;
  return {
    async query<R extends object>(text: string, params: readonly unknown[] = []) {
      const res = await guarded(() => pool.query(text, params as unknown[]));
      return { rows: res.rows as R[] };
    },
    async exec(script: string) {
      await pool.query(script);
    },
    close() {
      // Pool.end() rejects when called twice; shutdown hooks and tests may both close.
      closed ??= pool.end();
      return closed;
    },
  };
}

/**
 * Embedded PostgreSQL (WASM). `dataDir` is a directory (created if missing) whose files persist
 * across restarts, or ':memory:'. Single process only: two processes must not share a dataDir.
 * PGlite runs one statement at a time and queues the rest, so concurrent callers are safe.
 */
export async function createPgliteClient(dataDir: string): Promise<SqlClient> {
  // Loaded lazily: the WASM bundle is large and production (PostgreSQL) never needs it.
  const { PGlite } = await import('@electric-sql/pglite');
  let db: InstanceType<typeof PGlite>;
  if (dataDir === IN_MEMORY) {
    db = await PGlite.create();
  } else {
    const dir = resolve(dataDir);
    mkdirSync(dir, { recursive: true });
    db = await PGlite.create(dir);
  }
  let closed: Promise<void> | undefined;
  return {
    async query<R extends object>(text: string, params: readonly unknown[] = []) {
      const res = await db.query<R>(text, params as unknown[]);
      return { rows: res.rows };
    },
    async exec(script: string) {
      await db.exec(script);
    },
    close() {
      closed ??= db.closed ? Promise.resolve() : db.close();
      return closed;
    },
  };
}
