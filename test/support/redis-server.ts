import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { getFreePort } from './free-port';

/**
 * A private, throw-away redis-server for one test suite.
 *
 *   const redis = await startRedis();      // in beforeAll
 *   new Redis(redis.url);                   // ioredis, or anything that takes a URL
 *   await redis.stop();                     // Redis is down: the port refuses connections
 *   await redis.start();                    // up again on the same port, empty
 *   await redis.stop();                     // in afterAll
 *
 * It runs the system `redis-server` binary (REDIS_SERVER_BIN, else the first on PATH) bound to
 * 127.0.0.1 on a free port from this Jest worker's block (never 6379: the developer's Redis is
 * never touched), with no persistence (`--save '' --appendonly no`) and its own temporary
 * `--dir`. Every start is a fresh, empty server. A server cannot outlive the test process: it is
 * SIGKILLed from the process's 'exit' handler, and a small watchdog shell kills it if the process
 * dies without running that handler (SIGKILL, OOM, a Jest worker killed on timeout).
 */
export interface RedisHarness {
  /** `redis://127.0.0.1:<port>`; the same after a restart. */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The redis-server's pid, undefined while it is stopped. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts it again on the same port (empty: nothing is persisted). No-op while running. */
  start(): Promise<void>;
  /** Graceful SIGTERM (SIGKILL after 5 s); resolves once the port refuses connections. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, like a crash; resolves once the port refuses connections. Idempotent. */
  kill(): Promise<void>;
  /** SIGSTOP: connections are still accepted by the kernel but never answered (a hung server). */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): Promise<void>;
  /** FLUSHALL, to isolate tests that share one server. */
  flushAll(): Promise<void>;
}

export interface StartRedisOptions {
  /** A fixed port; by default a free one from getFreePort(). Never use 6379. */
  port?: number;
  /** Extra redis-server arguments, e.g. ['--maxmemory', '16mb', '--requirepass', 'x']. */
  args?: readonly string[];
  /** How long to wait for the first PONG. Default 10 000 ms. */
  startTimeoutMs?: number;
  /** The redis-server binary; default REDIS_SERVER_BIN, else `redis-server` found on PATH. */
  binary?: string;
  /** Writes this text as the server's config file, in its own --dir (Sentinel needs one it may rewrite). */
  config?: string;
}

const HOST = '127.0.0.1';

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHarness> {
  const binary = resolveBinary(opts.binary);
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await getFreePort(HOST));
    if (port === 6379) throw new Error('startRedis: refusing port 6379 (the developer\'s Redis)');
    const harness = new RedisServerHarness(binary, port, opts.args ?? [], opts.startTimeoutMs ?? 10_000, opts.config);
    try {
      await harness.start();
      return harness;
    } catch (err) {
      lastError = err;
      // Only a port taken between the probe and redis' bind is worth another port.
      if (!/address already in use/i.test(String(err))) break;
    }
  }
  throw lastError;
}

// ---------------------------------------------------------------------------------------------

class RedisServerHarness implements RedisHarness {
  readonly host = HOST;
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private watchdog: ChildProcess | undefined;
  private dir: string | undefined;
  private paused = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly extraArgs: readonly string[],
    private readonly startTimeoutMs: number,
    private readonly config?: string,
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(): Promise<void> {
    return this.serialise(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.serialise(() => this.doStop('SIGTERM'));
  }

  kill(): Promise<void> {
    return this.serialise(() => this.doStop('SIGKILL'));
  }

  pause(): Promise<void> {
    return this.serialise(async () => {
      this.requireRunning('pause').kill('SIGSTOP');
      this.paused = true;
    });
  }

  resume(): Promise<void> {
    return this.serialise(async () => {
      this.requireRunning('resume').kill('SIGCONT');
      this.paused = false;
    });
  }

  async flushAll(): Promise<void> {
    this.requireRunning('flushAll');
    const reply = await redisCommand(this.port, ['FLUSHALL'], 5_000);
    if (reply !== '+OK') throw new Error(`FLUSHALL on ${this.url} answered ${reply}`);
  }

  // -------------------------------------------------------------------------------------------

  private serialise(step: () => Promise<void>): Promise<void> {
    const next = this.transition.then(step, step);
    this.transition = next.catch(() => undefined);
    return next;
  }

  private requireRunning(what: string): ChildProcess {
    if (!this.child) throw new Error(`${what}: the redis-server on ${this.url} is not running`);
    return this.child;
  }

  private async doStart(): Promise<void> {
    if (this.child) return;
    const dir = mkdtempSync(join(tmpdir(), 'redis-harness-'));
    const logPath = join(dir, 'redis.log');
    const configPath = join(dir, 'redis.conf');
    if (this.config !== undefined) writeFileSync(configPath, this.config);
    const args = [
      ...(this.config !== undefined ? [configPath] : []),
      '--port', String(this.port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      '--logfile', '',
      ...this.extraArgs,
    ];
    // stdout/stderr go straight to a file: no pipe handles that would keep Jest alive.
    const logFd = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.binary, args, { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    child.unref();
    this.child = child;
    this.exited = exited;
    this.dir = dir;
    this.paused = false;

    const pid = await Promise.race([
      new Promise<number | undefined>((resolve) => child.once('spawn', () => resolve(child.pid))),
      spawnError.then((err) => {
        throw new Error(`could not run ${this.binary}: ${err.message}`);
      }),
    ]).catch(async (err: unknown) => {
      await this.cleanUp();
      throw err;
    });
    if (pid === undefined) {
      await this.cleanUp();
      throw new Error(`could not run ${this.binary}: no pid`);
    }
    reaper().pids.add(pid);
    this.watchdog = startWatchdog(pid);

    try {
      await this.waitUntilReady(pid, exited, logPath);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      await this.cleanUp();
      throw err;
    }
  }

  private async waitUntilReady(pid: number, exited: Promise<void>, logPath: string): Promise<void> {
    let gone = false;
    void exited.then(() => (gone = true));
    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (gone) {
        throw new Error(`redis-server on port ${this.port} exited during start-up:\n${tail(logPath)}`);
      }
      const pong = await redisCommand(this.port, ['PING'], 500).catch(() => undefined);
      if (pong === '+PONG') {
        // Make sure the PONG came from our process, not from a server that already had the port.
        const info = await redisCommand(this.port, ['INFO', 'server'], 2_000);
        const servedBy = /process_id:(\d+)/.exec(info)?.[1];
        if (servedBy !== String(pid)) {
          throw new Error(`port ${this.port} is served by another redis-server (pid ${servedBy}), not ours (pid ${pid})`);
        }
        return;
      }
      await sleep(20);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${this.startTimeoutMs} ms:\n${tail(logPath)}`);
  }

  private async doStop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.paused && signal === 'SIGTERM') child.kill('SIGCONT');
    child.kill(signal);
    if (!(await within(this.exited!, 5_000))) {
      child.kill('SIGKILL');
      if (!(await within(this.exited!, 5_000))) {
        throw new Error(`redis-server pid ${child.pid} on port ${this.port} did not exit`);
      }
    }
    await waitForPortClosed(this.port, 5_000);
    await this.cleanUp();
  }

  private async cleanUp(): Promise<void> {
    const pid = this.child?.pid;
    if (pid !== undefined) reaper().pids.delete(pid);
    if (this.watchdog?.pid !== undefined) {
      reaper().pids.delete(this.watchdog.pid);
      try {
        this.watchdog.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.child = undefined;
    this.exited = undefined;
    this.watchdog = undefined;
    this.dir = undefined;
    this.paused = false;
  }
}

// --- process-wide clean-up ------------------------------------------------------------------

interface Reaper {
  pids: Set<number>;
}

/**
 * Jest gives each test file a sandbox with its own copy of `process`, whose 'exit' event never
 * fires; the real one lives in Node's own global context, reached with runInThisContext. The
 * handler is installed once per process, whatever the number of test files.
 */
function reaper(): Reaper {
  const realProcess = runInThisContext('process') as NodeJS.Process;
  const key = Symbol.for('auth-domain.test.redis-server.reaper');
  const holder = realProcess as unknown as Record<symbol, Reaper | undefined>;
  let r = holder[key];
  if (!r) {
    const created: Reaper = { pids: new Set<number>() };
    realProcess.on('exit', () => {
      for (const pid of created.pids) {
        try {
          realProcess.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      created.pids.clear();
    });
    holder[key] = created;
    r = created;
  }
  return r;
}

/** A shell that SIGKILLs `pid` as soon as this process is gone (and exits when `pid` is). */
function startWatchdog(pid: number): ChildProcess | undefined {
  try {
    const script = 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null; exit 0';
    const dog = spawn('/bin/sh', ['-c', script, 'redis-harness-watchdog', String(process.pid), String(pid)], {
      stdio: 'ignore',
    });
    dog.on('error', () => undefined);
    dog.unref();
    if (dog.pid !== undefined) reaper().pids.add(dog.pid);
    return dog;
  } catch {
    return undefined; // the 'exit' handler still covers the ordinary cases
  }
}

// --- helpers ---------------------------------------------------------------------------------

function resolveBinary(explicit?: string): string {
  const wanted = explicit ?? process.env.REDIS_SERVER_BIN;
  if (wanted) {
    if (isExecutable(wanted)) return wanted;
    throw new Error(`redis-server binary not executable: ${wanted}`);
  }
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin', '/usr/sbin']) {
    const candidate = join(dir, 'redis-server');
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(
    'redis-server was not found on PATH. The Redis integration suites start their own private ' +
      'server from the system binary: install it (Debian: apt-get install -y redis-server; ' +
      '.ci/run does this) or set REDIS_SERVER_BIN to its path.',
  );
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function tail(path: string, bytes = 2_000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > bytes ? '…' + text.slice(-bytes) : text || '(empty log)';
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once a TCP connect to the port is refused. */
async function waitForPortClosed(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: HOST, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections after ${timeoutMs} ms`);
    await sleep(20);
  }
}

/**
 * Sends one command over a fresh connection and returns the reply's first line (simple string,
 * error or integer) or a bulk string's payload. Enough for PING, INFO, FLUSHALL.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no reply to ${args[0]} within ${timeoutMs} ms`)), timeoutMs);
    function finish(err: Error | undefined, value?: string): void {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value as string);
    }
    socket.once('error', (err) => finish(err));
    socket.once('close', () => finish(new Error(`connection closed before a reply to ${args[0]}`)));
    socket.once('connect', () => {
      const parts = [`*${args.length}\r\n`];
      for (const a of args) parts.push(`$${Buffer.byteLength(a)}\r\n${a}\r\n`);
      socket.write(parts.join(''));
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const first = buf.subarray(0, eol).toString('utf8');
      if (first[0] !== '$') return finish(undefined, first);
      const len = Number(first.slice(1));
      if (len < 0) return finish(undefined, '');
      if (buf.length >= eol + 2 + len + 2) finish(undefined, buf.subarray(eol + 2, eol + 2 + len).toString('utf8'));
    });
  });
}
