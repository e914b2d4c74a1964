'use strict';
/**
 * npm run bench — the performance goals of issue 5, measured on this machine.
 *
 * Starts (and always stops) a private redis-server (unless BENCH_REDIS_URL is given), a scratch
 * PostgreSQL database, our app in production mode (compiled dist/) and the baseline recipe
 * (bench/baseline), then runs in a fixed order, with warm-up and repeats:
 *   throughput + latency: GET /health/live vs GET /auth/me (bearer), both apps; POST /auth/refresh
 *   fine latency: closed-loop probe with microsecond timing (autocannon reports whole ms)
 *   propagation: logout on instance A -> first 401 on instance B, >= 200 trials
 *   login: 16 concurrent argon2id logins, event-loop delay inside the server, /health/live latency
 *   login timing: sequential logins of a known email (wrong password) vs an unknown email, medians
 *   forgot timing: POST /auth/password/forgot for a known vs an unknown email, medians (mail to a local SMTP sink)
 *   memory: Redis bytes per session with 100k sessions (each rotated once)
 *   cluster: single Redis vs a 3-master/3-replica Redis Cluster, AUTH_REDIS_WAIT_REPLICAS 0 vs 1,
 *     commands and round trips per operation, bytes per session (bench/cluster.js)
 * Prints a table and writes bench/results/latest.json.
 *
 * BENCH_CLUSTER=0 skips the cluster section; BENCH_CLUSTER=only runs it alone (right after the
 * apps start; writes bench/results/cluster.json).
 *
 * Production-default limits: the app runs with AUTH_RATE_LIMIT_MAX/WINDOW at their defaults
 * (10 per 300 s per client and route) behind a trusted loopback proxy (TRUST_PROXY=loopback), and
 * every request carries an X-Forwarded-For client address of its own, so each client is seen once,
 * as one user's occasional refresh is in production. /health/live and /auth/me carry one too.
 *
 * A/B: BENCH_AB_DIR=<another checkout> also builds and starts that checkout's app ('other') and
 * runs its live, me and refresh scenarios right after ours in every repeat (same Redis, database
 * and keys), so the machine's drift hits both builds alike; BENCH_AB_PAIRED=1 loads both at the
 * same time instead, BENCH_AB_ALTERNATE_MS=<ms> switches the load between them every <ms>;
 * BENCH_AB_ENV="NAME=value …" sets the other app's environment apart.
 */
const { spawn, fork, execFileSync } = require('node:child_process');
const { generateKeyPairSync, randomBytes, randomUUID } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');
const Redis = require('ioredis');
const { Client } = require('pg');
const { runClusterSection } = require('./cluster');

const ROOT = path.resolve(__dirname, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const CONNECTIONS = 10;
const PROPAGATION_TRIALS = Number(process.env.BENCH_PROPAGATION_TRIALS ?? 200);
const MEMORY_SESSIONS = Number(process.env.BENCH_MEMORY_SESSIONS ?? 100000);
const LOGIN_TIMING_TRIALS = Number(process.env.BENCH_LOGIN_TIMING_TRIALS ?? 60);
const CLUSTER = process.env.BENCH_CLUSTER ?? '1';
// Dev knob: a comma-separated subset of scenario names (e.g. "ours live,ours refresh"); the later
// phases (latency probe, propagation, login, memory) then are skipped and no JSON is written.
const ONLY = process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(',').map((s) => s.trim()) : null;
const PG_ADMIN = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const AB_DIR = process.env.BENCH_AB_DIR ? path.resolve(process.env.BENCH_AB_DIR) : null;
// With BENCH_AB_DIR: load both apps at the same time (BENCH_AB_PAIRED=1) instead of one after the
// other, so that whatever else the machine runs at that moment slows both alike.
const PAIRED = process.env.BENCH_AB_PAIRED === '1';
// With BENCH_AB_DIR: alternate the load between the two apps every this many ms for
// BENCH_DURATION × BENCH_REPEATS seconds per kind of request, instead of whole runs.
const ALTERNATE_MS = Number(process.env.BENCH_AB_ALTERNATE_MS ?? 0);
// With BENCH_AB_DIR: extra environment for the other app only, e.g. "AUTH_DEVICE_BINDING=off"
// (BENCH_AB_DIR=. then compares one build under two settings).
const AB_ENV = Object.fromEntries(
  (process.env.BENCH_AB_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

/**
 * A client address of its own for every request (10.0.0.0/8, from a random start): the app trusts
 * the loopback proxy, so this is the address it rate-limits, and no client comes back within a
 * window (16.7M addresses).
 */
let clientCounter = Math.floor(Math.random() * 2 ** 24);
function nextClient() {
  const i = clientCounter++ & 0xffffff;
  return `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
}
/** The address a proxy puts on the live and me scenarios' requests (they are not rate-limited). */
const FIXED_CLIENT = { 'x-forwarded-for': '192.0.2.10' };

const cleanups = [];
const log = (...a) => console.log('[bench]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  if (process.env.BENCH_REDIS_URL) return { url: process.env.BENCH_REDIS_URL, external: true };
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  cleanups.push(async () => {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const c = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return { url, external: false, pid: proc.pid };
    } catch {
      c.disconnect();
      await sleep(50);
    }
  }
  throw new Error('redis-server did not start');
}

async function createDatabase() {
  const name = `authbench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const c = new Client({ connectionString: PG_ADMIN });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return u.toString();
}

function writeKeys() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-keys-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(path.join(dir, 'private.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  fs.writeFileSync(path.join(dir, 'public.pem'), publicKey.export({ format: 'pem', type: 'spki' }));
  // AUTH_MAC_SECRET_PATH's default, beside the private key; production never generates it.
  fs.writeFileSync(path.join(dir, 'mac-secret'), randomBytes(32).toString('base64url'), { mode: 0o600 });
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return { privateKeyPath: path.join(dir, 'private.pem'), publicKeyPath: path.join(dir, 'public.pem') };
}

async function waitHttp(port, proc, name) {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
    const ok = await new Promise((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/health/live' }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        })
        .on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${name} did not answer on :${port}`);
}

async function startProcess(name, script, env, execArgv = []) {
  const port = await freePort();
  const proc = fork(script, [], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    execArgv,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.connected) {
      proc.send('exit');
      await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(3000)]);
    }
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(3000)]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });
  try {
    await waitHttp(port, proc, name);
  } catch (e) {
    throw new Error(`${e.message}\n${stderr}`);
  }
  return { name, port, proc, base: `http://127.0.0.1:${port}` };
}

function request(port, method, p, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: p,
        headers: { 'x-forwarded-for': nextClient(), ...(data ? { 'content-type': 'application/json' } : {}), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, body: text ? safeJson(text) : undefined }));
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
const safeJson = (t) => {
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
};

async function login(app, email, password) {
  const r = await request(app.port, 'POST', '/auth/login', { body: { email, password, refreshTokenDelivery: 'body' } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (err, r) => {
      if (err) return reject(err);
      // Throughput counts successful answers only: a fast 401 is not a served request.
      resolve({ requests: r['2xx'] + r.non2xx, rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, statusCodes: r.statusCodeStats });
    });
  });
}

/**
 * Closed loop, 10 keep-alive connections, hrtime per request: microsecond latency percentiles of
 * several routes, interleaved request by request (each connection takes the routes in turn), so the
 * machine's noise and the queueing behind other requests hit every route alike.
 */
async function probeLatency(port, routes, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const samples = routes.map(() => []);
  let left = count * routes.length;
  const worker = async (w) => {
    for (let i = w; left-- > 0; i++) {
      const k = i % routes.length;
      const t0 = process.hrtime.bigint();
      await new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: routes[k].path, headers: routes[k].headers ?? {}, agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
      samples[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
  agent.destroy();
  return samples.map((xs) => {
    xs.sort((x, y) => x - y);
    return { p50: pct(xs, 50), p99: pct(xs, 99) };
  });
}

/** The app's own CPU time (user + system, µs) so far: steadier than req/s on a shared 2-core box. */
function cpuRead(proc) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && m.cpu) {
        proc.off('message', on);
        resolve(m.cpu.user + m.cpu.system);
      }
    };
    proc.on('message', on);
    proc.send('cpu:read');
  });
}

/** The app's read and write system calls so far (Linux /proc; null elsewhere): socket writes are a large share of a request's cost on a VM. */
function syscallsRead(proc) {
  try {
    const io = fs.readFileSync(`/proc/${proc.pid}/io`, 'utf8');
    return Number(/syscr: (\d+)/.exec(io)[1]) + Number(/syscw: (\d+)/.exec(io)[1]);
  } catch {
    return null;
  }
}

function ipcRead(proc) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && m.eld) {
        proc.off('message', on);
        resolve(m.eld);
      }
    };
    proc.on('message', on);
    proc.send('eld:read');
  });
}

/** Production requires MAIL_URL: an SMTP server on loopback that accepts and discards every message, counting them. */
async function startSmtpSink() {
  const { SMTPServer } = require('smtp-server');
  let received = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, cb) {
      stream.on('end', () => {
        received++;
        cb();
      });
      stream.resume();
    },
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `smtp://127.0.0.1:${port}`, received: () => received };
}

async function main() {
  const started = Date.now();
  log('building (nest build)…');
  execFileSync(path.join(ROOT, 'node_modules/.bin/nest'), ['build'], { cwd: ROOT, stdio: 'inherit' });
  if (AB_DIR && AB_DIR !== ROOT) {
    log(`building the A/B checkout ${AB_DIR}…`);
    execFileSync(path.join(AB_DIR, 'node_modules/.bin/nest'), ['build'], { cwd: AB_DIR, stdio: 'inherit' });
  }
  const redis = await startRedis();
  const smtp = await startSmtpSink();
  const databaseUrl = await createDatabase();
  const keys = writeKeys();
  const appEnv = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    DATABASE_URL: databaseUrl,
    MAIL_URL: smtp.url,
    AUTH_PUBLIC_ORIGIN: 'https://bench.example',
    JWT_PRIVATE_KEY_PATH: keys.privateKeyPath,
    JWT_PUBLIC_KEY_PATH: keys.publicKeyPath,
    REFRESH_REUSE_GRACE: '10',
    // Rate limits at their defaults; the bench is the trusted proxy and names a client per request.
    TRUST_PROXY: 'loopback',
  };
  const probe = path.join(__dirname, 'eld-probe.js');
  const extraArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --prof
  const ours = await startProcess('ours', path.join(ROOT, 'dist/main.js'), appEnv, ['-r', probe, ...extraArgs]);
  const base = await startProcess('baseline', path.join(__dirname, 'baseline/baseline.main.ts'), appEnv, ['-r', 'ts-node/register/transpile-only']);
  const other = AB_DIR ? await startProcess('other', path.join(AB_DIR, 'dist/main.js'), { ...appEnv, ...AB_ENV }, ['-r', probe, ...extraArgs]) : null;
  log(`ours on :${ours.port}, baseline on :${base.port}${other ? `, other (${AB_DIR} ${JSON.stringify(AB_ENV)}) on :${other.port}` : ''}, redis ${redis.url}`);
  // Redis's own time per refresh (INFO commandstats): what a fleet of instances costs the one shared Redis.
  const redisStats = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => redisStats.disconnect());

  const password = 'bench-password-Long-enough-1';
  const email = `bench-${randomUUID()}@example.com`;
  const reg = await request(ours.port, 'POST', '/auth/register', { body: { email, password } });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const tokens = await login(ours, email, password);
  const bearer = { authorization: `Bearer ${tokens.accessToken}` };
  const me = await request(ours.port, 'GET', '/auth/me', { headers: bearer });
  const meBase = await request(base.port, 'GET', '/auth/me', { headers: bearer });
  if (me.status !== 200 || meBase.status !== 200) throw new Error(`token not accepted: ours ${me.status}, baseline ${meBase.status}`);
  if (other && (await request(other.port, 'GET', '/auth/me', { headers: bearer })).status !== 200) throw new Error('token not accepted by the A/B app');

  // A pool of independent sessions: each request takes one token and returns its successor, so
  // no two in-flight requests ever present the same token (which would be reuse, i.e. theft).
  // Requests cut off when a run ends lose their successor, so every run starts from fresh sessions.
  // The pool belongs to its own account: a user keeps at most 100 live sessions, and refilling
  // the pool every repeat would otherwise end the session whose bearer token 'ours me' uses.
  const poolEmail = `bench-pool-${randomUUID()}@example.com`;
  const poolReg = await request(ours.port, 'POST', '/auth/register', { body: { email: poolEmail, password } });
  if (poolReg.status !== 201) throw new Error(`register failed: ${poolReg.status}`);
  /** Refresh scenario for one app: its own pool of sessions, logged in through that app. */
  const refreshScenario = (app) => {
    const pool = [];
    const refill = async () => {
      pool.length = 0;
      for (let i = 0; i < CONNECTIONS * 2; i++) pool.push((await login(app, poolEmail, password)).refreshToken);
    };
    const requests = [
      {
        method: 'POST',
        path: '/auth/refresh',
        setupRequest: (req, ctx) => {
          ctx.token = pool.shift() ?? 'pool-empty';
          return {
            ...req,
            headers: { 'content-type': 'application/json', 'x-forwarded-for': nextClient() },
            body: JSON.stringify({ refreshToken: ctx.token }),
          };
        },
        onResponse: (status, body) => {
          if (status === 200) pool.push(JSON.parse(body).refreshToken);
        },
      },
    ];
    return { refill, run: (duration) => cannon({ duration, url: app.base, requests }) };
  };
  const oursRefresh = refreshScenario(ours);
  const otherRefresh = other ? refreshScenario(other) : null;
  const clusterContext = () => ({
    log, median, pct, sleep, freePort, startProcess, request, login, cpuRead, nextClient, cannon, cleanups, appEnv, ours, single: redis, password, poolEmail, refreshScenario,
    ROOT, DURATION, REPEATS, WARMUP, CONNECTIONS, MEMORY_SESSIONS,
  });
  if (CLUSTER === 'only') {
    const cluster = await runClusterSection(clusterContext());
    printCluster(cluster);
    fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, 'results/cluster.json'), JSON.stringify({ machine: machineOf(), date: new Date().toISOString(), settings: { durationS: DURATION, warmupS: WARMUP, repeats: REPEATS, connections: CONNECTIONS }, cluster, elapsedS: Math.round((Date.now() - started) / 1000) }, null, 2));
    log('wrote bench/results/cluster.json');
    return;
  }

  // Each repeat brackets an app's scenarios between two /health/live runs, and a ratio's reference
  // is their mean: the VM's speed drifts within seconds, and a drift that is linear over the
  // repeat then cancels out.
  const live = (app) => (duration) => cannon({ duration, url: `${app.base}/health/live`, headers: FIXED_CLIENT });
  const meOf = (app) => (duration) => cannon({ duration, url: `${app.base}/auth/me`, headers: { ...bearer, ...FIXED_CLIENT } });
  const scenarios = {
    'ours live': live(ours),
    'ours me': meOf(ours),
    'ours refresh': oursRefresh.run,
    'ours live again': live(ours),
    ...(other
      ? { 'other live': live(other), 'other me': meOf(other), 'other refresh': otherRefresh.run, 'other live again': live(other) }
      : {}),
    'baseline live': live(base),
    'baseline me': meOf(base),
    'baseline live again': live(base),
  };
  if (ONLY) {
    // "ours X" also selects the A/B app's "other X".
    for (const k of Object.keys(scenarios)) if (!ONLY.includes(k.replace(/ again$/, '').replace(/^other /, 'ours '))) delete scenarios[k];
    if (Object.keys(scenarios).length === 0) throw new Error(`BENCH_SCENARIOS matched none of the scenarios`);
  }
  if (other && PAIRED) return pairedAB({ live, meOf, oursRefresh, otherRefresh, ours, other });
  if (other && ALTERNATE_MS > 0) return alternatingAB({ ours, other, bearer, poolEmail, password });
  // Run before a scenario, outside its measured window (the logins' argon2 time is not refresh cost).
  // An app that sat idle while the other one was measured starts its first run cold (its first
  // /health/live ran ~15 % slower than the bracketing one after the refresh run): one untimed
  // second of load first, so every measured run starts warm.
  const prepare = {
    'ours live': () => live(ours)(1),
    'ours refresh': oursRefresh.refill,
    ...(other ? { 'other live': () => live(other)(1), 'other refresh': otherRefresh.refill } : {}),
    'baseline live': () => live(base)(1),
  };
  const appOf = (name) => ({ ours, other, baseline: base })[name.split(' ')[0]];
  const measuredCpu = (name) => name.startsWith('ours') || name.startsWith('other');
  log(`warm-up ${WARMUP}s per scenario`);
  for (const [name, run] of Object.entries(scenarios)) {
    await prepare[name]?.();
    await run(WARMUP);
  }
  const runs = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
  for (let r = 0; r < REPEATS; r++) {
    for (const [name, run] of Object.entries(scenarios)) {
      await prepare[name]?.();
      const cpu0 = measuredCpu(name) ? await cpuRead(appOf(name).proc) : 0;
      const sys0 = measuredCpu(name) ? syscallsRead(appOf(name).proc) : null;
      const redis0 = name.endsWith(' refresh') ? await redisCommandUs(redisStats) : 0;
      const res = await run(DURATION);
      if (measuredCpu(name)) res.cpuUsPerRequest = (await cpuRead(appOf(name).proc) - cpu0) / res.requests;
      if (sys0 !== null) res.syscallsPerRequest = (syscallsRead(appOf(name).proc) - sys0) / res.requests;
      if (name.endsWith(' refresh')) res.redisUsPerRequest = ((await redisCommandUs(redisStats)) - redis0) / res.requests;
      if (res.non2xx > 0 || res.errors > 0) log(`WARNING ${name}: ${res.non2xx} non-2xx, ${res.errors} errors, statuses ${JSON.stringify(res.statusCodes)}`);
      runs[name].push(res);
      const cpu =
        res.cpuUsPerRequest === undefined
          ? ''
          : `  app CPU ${res.cpuUsPerRequest.toFixed(0)} µs/req${res.syscallsPerRequest === undefined ? '' : `, ${res.syscallsPerRequest.toFixed(2)} syscalls/req`}`;
      const redisUs = res.redisUsPerRequest === undefined ? '' : `  Redis ${res.redisUsPerRequest.toFixed(1)} µs/req`;
      log(`repeat ${r + 1}/${REPEATS} ${name.padEnd(14)} ${res.rps.toFixed(0).padStart(6)} req/s  p50 ${res.p50} ms  p99 ${res.p99} ms${cpu}${redisUs}`);
    }
  }
  // The reference of each repeat's ratios: the mean of the live runs that bracket it.
  for (const app of ['ours', 'other', 'baseline']) {
    const before = runs[`${app} live`];
    const after = runs[`${app} live again`];
    if (before && after) runs[`${app} live reference`] = before.map((x, i) => ({ rps: (x.rps + after[i].rps) / 2 }));
  }
  const rowsOf = (k) => (runs[`${k} again`] ? [...runs[k], ...runs[`${k} again`]] : runs[k]);
  const summary = Object.fromEntries(
    Object.keys(runs)
      .filter((k) => !k.endsWith(' again') && !k.endsWith(' reference'))
      .map((k) => [k, rowsOf(k)])
      .map(([k, rs]) => [
      k,
      {
        rps: median(rs.map((x) => x.rps)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
        ...(rs[0].cpuUsPerRequest === undefined ? {} : { appCpuUsPerRequest: Math.round(median(rs.map((x) => x.cpuUsPerRequest))) }),
        ...(rs[0].syscallsPerRequest === undefined ? {} : { appSyscallsPerRequest: +median(rs.map((x) => x.syscallsPerRequest)).toFixed(2) }),
        ...(rs[0].redisUsPerRequest === undefined ? {} : { redisUsPerRequest: +median(rs.map((x) => x.redisUsPerRequest)).toFixed(1) }),
      },
    ]),
  );

  if (ONLY) {
    for (const [k, v] of Object.entries(summary)) log(`${k}: ${v.rps.toFixed(0)} req/s, p50 ${v.p50} ms, p99 ${v.p99} ms, app CPU ${v.appCpuUsPerRequest} µs/req${v.appSyscallsPerRequest === undefined ? '' : `, ${v.appSyscallsPerRequest} syscalls/req`}${v.redisUsPerRequest === undefined ? '' : `, Redis ${v.redisUsPerRequest} µs/req`}`);
    const ref = runs['ours live reference'];
    if (ref && runs['ours refresh']) log(`refresh ÷ live ${roundRatio(runs['ours refresh'], ref).toFixed(3)} (median of per-repeat ratios; per repeat ${perRepeat(runs['ours refresh'], ref).join(' ')})`);
    if (ref && runs['ours me']) log(`me ÷ live ${roundRatio(runs['ours me'], ref).toFixed(3)} (median of per-repeat ratios; per repeat ${perRepeat(runs['ours me'], ref).join(' ')})`);
    const otherRef = runs['other live reference'];
    if (otherRef && runs['other refresh']) log(`other: refresh ÷ live ${roundRatio(runs['other refresh'], otherRef).toFixed(3)} (per repeat ${perRepeat(runs['other refresh'], otherRef).join(' ')})`);
    if (otherRef && runs['other me']) log(`other: me ÷ live ${roundRatio(runs['other me'], otherRef).toFixed(3)} (per repeat ${perRepeat(runs['other me'], otherRef).join(' ')})`);
    for (const k of ['live', 'me', 'refresh']) {
      const [a, b] = [runs[`ours ${k}`], runs[`other ${k}`]];
      if (!a || !b) continue;
      const cpu = a.map((x, i) => +(x.cpuUsPerRequest / b[i].cpuUsPerRequest).toFixed(3));
      log(`ours ÷ other, ${k}: req/s ${roundRatio(a, b).toFixed(3)} (per repeat ${perRepeat(a, b).join(' ')}); CPU per request ${median(cpu).toFixed(3)} (per repeat ${cpu.join(' ')})`);
    }
    return;
  }
  log('fine latency probe (20k requests per route and repeat, live and me interleaved request by request)');
  const fine = { live: [], me: [] };
  for (let r = 0; r < REPEATS; r++) {
    const [live, me] = await probeLatency(ours.port, [{ path: '/health/live' }, { path: '/auth/me', headers: bearer }], 20000);
    fine.live.push(live);
    fine.me.push(me);
  }
  const fineLive = { p50: median(fine.live.map((x) => x.p50)), p99: median(fine.live.map((x) => x.p99)) };
  const fineMe = { p50: median(fine.me.map((x) => x.p50)), p99: median(fine.me.map((x) => x.p99)) };

  log(`propagation: ${PROPAGATION_TRIALS} trials of logout on A, first 401 on B`);
  const instanceB = await startProcess('ours-b', path.join(ROOT, 'dist/main.js'), appEnv);
  const propagation = [];
  const failures = [];
  for (let i = 0; i < PROPAGATION_TRIALS; i++) {
    const t = await login(ours, email, password);
    const h = { authorization: `Bearer ${t.accessToken}` };
    const before = await request(instanceB.port, 'GET', '/auth/me', { headers: h });
    if (before.status !== 200) throw new Error(`instance B rejected a fresh token: ${before.status}`);
    const out = await request(ours.port, 'POST', '/auth/logout', { headers: h });
    if (out.status !== 204) throw new Error(`logout failed: ${out.status}`);
    const t0 = process.hrtime.bigint();
    let seen = false;
    while (Number(process.hrtime.bigint() - t0) / 1e6 < 1000) {
      const r = await request(instanceB.port, 'GET', '/auth/me', { headers: h });
      if (r.status === 401) {
        seen = true;
        break;
      }
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (seen) propagation.push(ms);
    else failures.push(ms);
  }
  propagation.sort((a, b) => a - b);

  log('login under load: 16 concurrent argon2id logins (16 accounts), event-loop delay in the server');
  // One account per worker: the lockout admits at most 5 concurrent attempts per account+address.
  const loadEmails = [];
  for (let i = 0; i < 16; i++) {
    const e = `bench-load-${i}-${randomUUID()}@example.com`;
    const r = await request(ours.port, 'POST', '/auth/register', { body: { email: e, password } });
    if (r.status !== 201) throw new Error(`register failed: ${r.status}`);
    loadEmails.push(e);
  }
  ours.proc.send('eld:reset');
  const loginStart = Date.now();
  let logins = 0;
  const liveDuring = [];
  let loadDone = false;
  const loginLoad = Promise.all(
    Array.from({ length: 16 }, async (_, i) => {
      while (Date.now() - loginStart < DURATION * 1000) {
        const r = await request(ours.port, 'POST', '/auth/login', { body: { email: loadEmails[i], password, refreshTokenDelivery: 'body' } });
        if (r.status === 200) logins++;
      }
    }),
  ).then(() => (loadDone = true));
  const liveProbe = (async () => {
    while (!loadDone) {
      const t0 = process.hrtime.bigint();
      const r = await request(ours.port, 'GET', '/health/live');
      if (r.status === 200) liveDuring.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await sleep(20);
    }
  })();
  await Promise.all([loginLoad, liveProbe]);
  const eld = await ipcRead(ours.proc);
  liveDuring.sort((a, b) => a - b);

  log(`login timing: ${LOGIN_TIMING_TRIALS} × known email (wrong password) vs unknown email, interleaved`);
  const loginTiming = await measureLoginTiming(ours, password);

  log(`forgot timing: ${LOGIN_TIMING_TRIALS} × known vs unknown email, interleaved`);
  const forgotTiming = await measureForgotTiming(ours, password, smtp);

  log(`memory: ${MEMORY_SESSIONS} sessions in a scratch Redis`);
  const memory = await measureSessionMemory();

  const cluster = CLUSTER === '0' ? null : await runClusterSection(clusterContext());

  const results = {
    machine: machineOf(),
    date: new Date().toISOString(),
    settings: { durationS: DURATION, warmupS: WARMUP, repeats: REPEATS, connections: CONNECTIONS },
    scenarios: summary,
    // Each ratio is taken within one repeat against the mean of the two /health/live runs that
    // bracket it, then the median over repeats: a shared VM drifts by ±15 % within a minute.
    ratios: {
      oursMeOverLive: roundRatio(runs['ours me'], runs['ours live reference']),
      oursRefreshOverLive: roundRatio(runs['ours refresh'], runs['ours live reference']),
      baselineMeOverLive: roundRatio(runs['baseline me'], runs['baseline live reference']),
    },
    ratiosPerRepeat: {
      oursMeOverLive: perRepeat(runs['ours me'], runs['ours live reference']),
      oursRefreshOverLive: perRepeat(runs['ours refresh'], runs['ours live reference']),
    },
    fineLatencyMs: { live: fineLive, me: fineMe, p99Overhead: fineMe.p99 - fineLive.p99, p50Overhead: fineMe.p50 - fineLive.p50 },
    propagationMs: {
      trials: PROPAGATION_TRIALS,
      notSeenWithin1s: failures.length,
      p50: pct(propagation, 50),
      p99: pct(propagation, 99),
      max: propagation[propagation.length - 1],
    },
    loginUnderLoad: { concurrency: 16, loginsPerSecond: logins / DURATION, eventLoopDelayMs: eld, healthLiveP99Ms: pct(liveDuring, 99) },
    loginTiming,
    forgotTiming,
    memory,
    cluster,
    elapsedS: Math.round((Date.now() - started) / 1000),
  };
  printTable(results);
  if (cluster) printCluster(cluster);
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results/latest.json'), JSON.stringify(results, null, 2));
  log('wrote bench/results/latest.json');
}

/**
 * Alternating A/B: CONNECTIONS closed-loop clients send every request to one app, switching apps
 * every BENCH_AB_ALTERNATE_MS. The machine's drift over a few hundred ms is small, so each window
 * of ours is compared with the mean of the two windows of the other app around it; the median of
 * those ratios compares the builds. CPU per request is each app's CPU over the whole session.
 */
async function alternatingAB({ ours, other, bearer, poolEmail, password }) {
  const agents = new Map([ours, other].map((app) => [app, new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })]));
  const call = (app, method, p, headers, body) =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: app.port, method, path: p, headers, agent: agents.get(app) }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const pools = new Map([ours, other].map((app) => [app, []]));
  const kinds = {
    live: (app) => call(app, 'GET', '/health/live', FIXED_CLIENT),
    me: (app) => call(app, 'GET', '/auth/me', { ...bearer, ...FIXED_CLIENT }),
    refresh: async (app) => {
      const pool = pools.get(app);
      const token = pool.shift() ?? 'pool-empty';
      const body = JSON.stringify({ refreshToken: token });
      const r = await call(app, 'POST', '/auth/refresh', { 'content-type': 'application/json', 'x-forwarded-for': nextClient() }, body);
      if (r.status === 200) pool.push(JSON.parse(r.text).refreshToken);
      return r;
    },
  };
  const chosen = Object.keys(kinds).filter((k) => !ONLY || ONLY.includes(`ours ${k}`));
  const session = async (k, seconds) => {
    for (const [app, pool] of pools) {
      pool.length = 0;
      if (k === 'refresh') for (let i = 0; i < CONNECTIONS * 2; i++) pool.push((await login(app, poolEmail, password)).refreshToken);
    }
    const counts = [];
    let failed = 0;
    const cpu0 = await Promise.all([cpuRead(ours.proc), cpuRead(other.proc)]);
    const start = Date.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let now = Date.now(); now - start < seconds * 1000; now = Date.now()) {
          const w = Math.floor((now - start) / ALTERNATE_MS);
          const r = await kinds[k](w % 2 === 0 ? ours : other);
          if (r.status >= 200 && r.status < 300) counts[w] = (counts[w] ?? 0) + 1;
          else failed++;
        }
      }),
    );
    const cpu1 = await Promise.all([cpuRead(ours.proc), cpuRead(other.proc)]);
    const served = (parity) => counts.reduce((n, c, w) => (w % 2 === parity ? n + (c ?? 0) : n), 0);
    const ratios = [];
    for (let w = 2; w < counts.length - 2; w += 2) ratios.push((counts[w] ?? 0) / (((counts[w - 1] ?? 0) + (counts[w + 1] ?? 0)) / 2));
    return { ratios, failed, cpuA: (cpu1[0] - cpu0[0]) / served(0), cpuB: (cpu1[1] - cpu0[1]) / served(1), a: served(0), b: served(1) };
  };
  for (const k of chosen) {
    await session(k, WARMUP);
    const r = await session(k, DURATION * REPEATS);
    const sorted = [...r.ratios].sort((x, y) => x - y);
    const q = (f) => sorted[Math.floor(f * (sorted.length - 1))];
    log(
      `alternating A/B, ${k} (${ALTERNATE_MS} ms windows, ${r.ratios.length} comparisons): ours ÷ other ${median(r.ratios).toFixed(3)} ` +
        `(quartiles ${q(0.25).toFixed(3)}-${q(0.75).toFixed(3)}); served ${r.a} vs ${r.b}; CPU per request ${r.cpuA.toFixed(0)} vs ${r.cpuB.toFixed(0)} µs (${(r.cpuA / r.cpuB).toFixed(3)})` +
        (r.failed ? `; ${r.failed} failed` : ''),
    );
  }
  for (const a of agents.values()) a.destroy();
}

/**
 * Paired A/B: each kind of request (live, me, refresh; BENCH_SCENARIOS picks, as "ours refresh")
 * loads both apps at once, each with its own 10 connections, BENCH_REPEATS times. Both then share
 * the same machine at the same moment, and the cheaper build serves more requests: ours ÷ other
 * per run, and its median, compare the builds.
 */
async function pairedAB({ live, meOf, oursRefresh, otherRefresh, ours, other }) {
  const kinds = {
    live: { run: (app) => live(app) },
    me: { run: (app) => meOf(app) },
    refresh: { run: (app) => (app === ours ? oursRefresh.run : otherRefresh.run), prepare: () => Promise.all([oursRefresh.refill(), otherRefresh.refill()]) },
  };
  const chosen = Object.keys(kinds).filter((k) => !ONLY || ONLY.includes(`ours ${k}`));
  const ratios = Object.fromEntries(chosen.map((k) => [k, { rps: [], cpu: [] }]));
  const pair = async (k, duration) => {
    await kinds[k].prepare?.();
    const cpu0 = await Promise.all([cpuRead(ours.proc), cpuRead(other.proc)]);
    const sys0 = [syscallsRead(ours.proc), syscallsRead(other.proc)];
    const [a, b] = await Promise.all([kinds[k].run(ours)(duration), kinds[k].run(other)(duration)]);
    const cpu1 = await Promise.all([cpuRead(ours.proc), cpuRead(other.proc)]);
    const sys1 = [syscallsRead(ours.proc), syscallsRead(other.proc)];
    a.syscallsPerRequest = (sys1[0] - sys0[0]) / a.requests;
    b.syscallsPerRequest = (sys1[1] - sys0[1]) / b.requests;
    for (const [name, r] of [['ours', a], ['other', b]]) if (r.non2xx > 0 || r.errors > 0) log(`WARNING ${name} ${k}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    return { a, b, cpuA: (cpu1[0] - cpu0[0]) / a.requests, cpuB: (cpu1[1] - cpu0[1]) / b.requests };
  };
  log(`paired A/B: warm-up ${WARMUP}s per kind`);
  for (const k of chosen) await pair(k, WARMUP);
  for (let r = 0; r < REPEATS; r++) {
    for (const k of chosen) {
      const { a, b, cpuA, cpuB } = await pair(k, DURATION);
      ratios[k].rps.push(a.rps / b.rps);
      ratios[k].cpu.push(cpuA / cpuB);
      const sys = (x) => (Number.isFinite(x.syscallsPerRequest) ? `, ${x.syscallsPerRequest.toFixed(2)} syscalls` : '');
      log(`repeat ${r + 1}/${REPEATS} ${k.padEnd(8)} ours ${a.rps.toFixed(0)} req/s (${cpuA.toFixed(0)} µs${sys(a)}), other ${b.rps.toFixed(0)} req/s (${cpuB.toFixed(0)} µs${sys(b)}): ${(a.rps / b.rps).toFixed(3)}`);
    }
  }
  const fmt = (xs) => xs.map((x) => x.toFixed(3)).join(' ');
  for (const k of chosen) {
    const { rps, cpu } = ratios[k];
    log(`ours ÷ other, ${k}: req/s ${median(rps).toFixed(3)} (per run ${fmt(rps)}); CPU per request ${median(cpu).toFixed(3)} (per run ${fmt(cpu)})`);
  }
}

/**
 * Failed-login latency for a registered email vs an unknown one, one request at a time,
 * interleaved (so drift hits both alike). Each attempt uses a fresh account (and, as every bench
 * request, a client address of its own): at most 1 failure per account, so the lockout never
 * delays these.
 */
async function measureLoginTiming(app, password) {
  const known = [];
  const unknown = [];
  const accounts = [];
  for (let i = 0; i < LOGIN_TIMING_TRIALS; i++) {
    const e = `bench-timing-${i}-${randomUUID()}@example.com`;
    const r = await request(app.port, 'POST', '/auth/register', { body: { email: e, password } });
    if (r.status !== 201) throw new Error(`register failed: ${r.status}`);
    accounts.push(e);
  }
  const once = async (email) => {
    const t0 = process.hrtime.bigint();
    const r = await request(app.port, 'POST', '/auth/login', { body: { email, password: 'not the right password at all' } });
    if (r.status !== 401) throw new Error(`expected 401, got ${r.status}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  for (let i = 0; i < LOGIN_TIMING_TRIALS; i++) {
    known.push(await once(accounts[i]));
    unknown.push(await once(`bench-nobody-${randomUUID()}@example.com`));
  }
  known.sort((a, b) => a - b);
  unknown.sort((a, b) => a - b);
  return {
    trials: LOGIN_TIMING_TRIALS,
    knownMedianMs: median(known),
    unknownMedianMs: median(unknown),
    knownP90Ms: pct(known, 90),
    unknownP90Ms: pct(unknown, 90),
  };
}

/**
 * POST /auth/password/forgot latency for a registered email vs an unknown one, one request at a
 * time, interleaved, a fresh address each time (the per-account limit never trips). Between two
 * requests the app finishes the previous one's background job (lookup, token, mail), so neither
 * kind pays for the other's.
 */
async function measureForgotTiming(app, password, smtp) {
  const known = [];
  const unknown = [];
  const accounts = [];
  for (let i = 0; i < LOGIN_TIMING_TRIALS; i++) {
    const e = `bench-forgot-${i}-${randomUUID()}@example.com`;
    const r = await request(app.port, 'POST', '/auth/register', { body: { email: e, password } });
    if (r.status !== 201) throw new Error(`register failed: ${r.status}`);
    accounts.push(e);
  }
  await sleep(500); // the registrations' verification mails
  const once = async (email) => {
    const t0 = process.hrtime.bigint();
    const r = await request(app.port, 'POST', '/auth/password/forgot', { body: { email } });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 202) throw new Error(`expected 202, got ${r.status}`);
    await sleep(50);
    return ms;
  };
  const mailsBefore = smtp.received();
  for (let i = 0; i < LOGIN_TIMING_TRIALS; i++) {
    known.push(await once(accounts[i]));
    unknown.push(await once(`bench-nobody-${randomUUID()}@example.com`));
  }
  await sleep(500);
  known.sort((a, b) => a - b);
  unknown.sort((a, b) => a - b);
  return {
    trials: LOGIN_TIMING_TRIALS,
    mailsSent: smtp.received() - mailsBefore,
    knownMedianMs: median(known),
    unknownMedianMs: median(unknown),
    knownP90Ms: pct(known, 90),
    unknownP90Ms: pct(unknown, 90),
  };
}

async function measureSessionMemory() {
  const { RedisSessionStore } = require(path.join(ROOT, 'dist/auth/sessions/session-store.redis-adapter'));
  const { SEALED_SUCCESSOR_BYTES } = require(path.join(ROOT, 'dist/auth/tokens/refresh-token.codec'));
  const { newSessionId } = require(path.join(ROOT, 'dist/auth/tokens/session-id.codec'));
  const { createHash } = require('node:crypto');
  // A dedicated server: the figure must not include anything else.
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mem-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  cleanups.push(async () => {
    proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  let client;
  for (let i = 0; i < 100; i++) {
    client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      break;
    } catch {
      client.disconnect();
      client = undefined;
      await sleep(50);
    }
  }
  const store = new RedisSessionStore(client);
  const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))[1]);
  const before = await used();
  const now = Date.now();
  const h = (s) => createHash('sha256').update(s).digest();
  const batch = 500;
  for (let i = 0; i < MEMORY_SESSIONS; i += batch) {
    const jobs = [];
    for (let j = i; j < Math.min(i + batch, MEMORY_SESSIONS); j++) {
      const userId = randomUUID();
      const sid = newSessionId(now);
      const secret = randomBytes(32);
      jobs.push(
        store
          .create({
            userId,
            sid,
            kind: 'api',
            createdAt: now,
            authTime: Math.floor(now / 1000),
            absoluteExpiresAt: now + 7 * 86400e3,
            idleTtlMs: 7 * 86400e3,
            deviceLabel: 'Chrome on macOS',
            bindingHash: '',
            secretHash: h(secret),
          })
          .then(() =>
            store.rotate({
              userId,
              sid,
              kind: 'api',
              presentedHash: h(secret),
              genuine: true,
              nextHash: h(randomBytes(32)),
              // Kept while the successor is unused: part of every rotated session's footprint.
              sealedSuccessor: randomBytes(SEALED_SUCCESSOR_BYTES),
              now: now + 1,
              idleTtlMs: 7 * 86400e3,
              revokeAllOnReuse: false,
              cutoffTtlMs: 7 * 86400e3,
            }),
          ),
      );
    }
    await Promise.all(jobs);
  }
  const after = await used();
  const keys = await client.dbsize();
  client.disconnect();
  return { sessions: MEMORY_SESSIONS, keys, bytesPerSession: Math.round((after - before) / MEMORY_SESSIONS), note: 'one user per session: worst case, each session pays for its own index key' };
}

/** Total time Redis has spent executing commands so far (µs, INFO commandstats). */
async function redisCommandUs(client) {
  const info = await client.info('commandstats');
  let us = 0;
  for (const m of info.matchAll(/usec=(\d+)/g)) us += Number(m[1]);
  return us;
}

/** a/b within each repeat, rounded. */
function perRepeat(a, b) {
  return a.map((x, i) => +(x.rps / b[i].rps).toFixed(3));
}

/** Median over repeats of a/b taken within each repeat. */
function roundRatio(a, b) {
  return median(a.map((x, i) => x.rps / b[i].rps));
}

function printTable(r) {
  const rows = Object.entries(r.scenarios).map(
    ([k, v]) =>
      `| ${k.padEnd(14)} | ${v.rps.toFixed(0).padStart(7)} | ${String(v.p50).padStart(6)} | ${String(v.p99).padStart(6)} | ${String(v.appCpuUsPerRequest ?? '').padStart(10)} |`,
  );
  console.log('\n| scenario       |   req/s | p50 ms | p99 ms | app CPU µs |\n|----------------|---------|--------|--------|------------|');
  console.log(rows.join('\n'));
  const f = (x) => x.toFixed(3);
  console.log(`
ratio /auth/me ÷ /health/live (ours)      ${f(r.ratios.oursMeOverLive)}   goal ≥ 0.90
ratio /auth/me ÷ /health/live (baseline)  ${f(r.ratios.baselineMeOverLive)}
ratio /auth/refresh ÷ /health/live (ours) ${f(r.ratios.oursRefreshOverLive)}   goal ≥ 0.50
  (ratios: median of per-repeat ratios; per repeat me ${r.ratiosPerRepeat.oursMeOverLive.join(' ')}, refresh ${r.ratiosPerRepeat.oursRefreshOverLive.join(' ')})
Redis time per refresh: ${r.scenarios['ours refresh']?.redisUsPerRequest ?? '?'} µs (INFO commandstats, median of repeats)
fine p99 latency: live ${f(r.fineLatencyMs.live.p99)} ms, me ${f(r.fineLatencyMs.me.p99)} ms, overhead ${f(r.fineLatencyMs.p99Overhead)} ms   goal ≤ 0.5
propagation A→B: p50 ${f(r.propagationMs.p50)} ms, p99 ${f(r.propagationMs.p99)} ms, max ${f(r.propagationMs.max)} ms, not seen in 1 s: ${r.propagationMs.notSeenWithin1s}   goal p99 ≤ 50
login ×16: ${r.loginUnderLoad.loginsPerSecond.toFixed(1)} logins/s, event-loop delay p99 ${f(r.loginUnderLoad.eventLoopDelayMs.p99)} ms (max ${f(r.loginUnderLoad.eventLoopDelayMs.max)}), /health/live p99 ${f(r.loginUnderLoad.healthLiveP99Ms)} ms   goal ELD p99 < 20
login timing (failed login, median of ${r.loginTiming.trials}): known email ${f(r.loginTiming.knownMedianMs)} ms, unknown email ${f(r.loginTiming.unknownMedianMs)} ms (p90 ${f(r.loginTiming.knownP90Ms)} / ${f(r.loginTiming.unknownP90Ms)})
forgot timing (median of ${r.forgotTiming.trials}): known email ${f(r.forgotTiming.knownMedianMs)} ms, unknown email ${f(r.forgotTiming.unknownMedianMs)} ms (p90 ${f(r.forgotTiming.knownP90Ms)} / ${f(r.forgotTiming.unknownP90Ms)}); ${r.forgotTiming.mailsSent} mails for ${r.forgotTiming.trials} known
Redis memory: ${r.memory.bytesPerSession} bytes per session (${r.memory.sessions} sessions, ${r.memory.keys} keys)   goal ≤ 400
machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, node ${r.machine.node}; ${r.elapsedS} s`);
}

function machineOf() {
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
}

function printCluster(c) {
  const n = (x) => (x === null || x === undefined ? '' : String(Math.round(x)));
  console.log(`\nRedis Cluster (${c.nodes.masters} masters, ${c.nodes.replicas} replicas) vs single Redis, one app instance each; medians of repeats`);
  console.log('| operation | target | req/s | p50 ms | p99 ms | app CPU µs | Redis masters CPU µs | replicas CPU µs |\n|---|---|---|---|---|---|---|---|');
  for (const [op, byTarget] of Object.entries(c.throughput)) {
    for (const [t, v] of Object.entries(byTarget)) console.log(`| ${op} | ${t} | ${n(v.rps)} | ${v.p50} | ${v.p99} | ${n(v.appCpuUs)} | ${n(v.redisMasterCpuUs)} | ${n(v.redisReplicaCpuUs)} |`);
  }
  if (c.logoutPairRedis) console.log(`logout, cluster WAIT 0 and 1 interleaved: Redis CPU masters ${c.logoutPairRedis.masterCpuUs}, replicas ${c.logoutPairRedis.replicaCpuUs} µs per logout (both together)`);
  console.log('\nper operation (one at a time): commands sent, round trips (socket reads by Redis), Redis µs (commandstats), p50 ms');
  for (const [t, ops] of Object.entries(c.perOp)) {
    for (const [op, v] of Object.entries(ops)) console.log(`${t.padEnd(8)} ${op.padEnd(15)} ${String(v.commandsSent).padStart(5)} ${String(v.roundTrips).padStart(5)} ${String(v.redisUsec).padStart(6)} ${String(v.latencyP50Ms).padStart(6)}  ${JSON.stringify(v.commands)}`);
  }
  console.log(`cluster memory: ${c.memory.bytesPerSession} bytes per session (${c.memory.sessions} sessions, ${c.memory.keys} keys; masters only, replication buffers excluded; raw used_memory ${c.memory.rawUsedMemoryBytesPerSession})`);
  if (c.fanout) console.log(`PUBLISH fan-out per message: ${c.fanout.publisherCpuUs} µs on the publishing master, ${c.fanout.otherNodesCpuUs} µs on the other nodes together`);
}

main()
  .catch((e) => {
    console.error('[bench] failed:', e instanceof Error ? e.stack : e);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
