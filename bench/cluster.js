'use strict';
/**
 * The bench's Redis Cluster section (BENCH_CLUSTER=0 skips it; BENCH_CLUSTER=only runs it alone).
 *
 * Starts a 3-master/3-replica cluster (bench/redis-cluster.js) and two more instances of the app in
 * production mode against it: 'cluster' (AUTH_REDIS_WAIT_REPLICAS=0) and 'cluster-wait' (=1). The
 * single-Redis app ('ours', started by run.js) is measured in the same repeats:
 *   throughput: POST /auth/refresh (10 connections, as in run.js) and POST /auth/login (16
 *     concurrent, fresh accounts each repeat), single vs cluster, order alternating per repeat; app
 *     CPU per request and Redis CPU per request (the redis-server processes' own CPU, /proc, masters
 *     and replicas apart);
 *   logout, AUTH_REDIS_WAIT_REPLICAS 0 vs 1: the sessions the cluster's login runs made, ended
 *     through 'cluster' and 'cluster-wait' in turn, request by request (10 connections), plus
 *     single Redis (BENCH_CLUSTER_WAIT_REPLICAS=0 makes both cluster apps alike: an A/A check);
 *   per operation (login, refresh, logout, GET /auth/me; N of one kind, one at a time): the
 *     commands each master received (MONITOR: sent by the app vs run inside a script), the request
 *     batches Redis read from its sockets (INFO stats total_reads_processed: round trips), and
 *     commandstats time, each minus an idle window of the same length (heartbeats, replica ACKs);
 *   memory: bytes per session on the cluster (used_memory summed over the masters, less the
 *     replication and client buffers; BENCH_CLUSTER_MEMORY_SESSIONS, default BENCH_MEMORY_SESSIONS);
 *   fan-out: CPU per PUBLISH on the publishing master and on the nodes the cluster bus forwards it to.
 * BENCH_CLUSTER_WAIT_NODE_ARGS: node arguments for 'cluster-wait' (e.g. --cpu-prof).
 */
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { randomBytes, randomUUID, createHash } = require('node:crypto');
const Redis = require('ioredis');
const { startRedisCluster } = require('./redis-cluster');

const OP_COUNTS = { login: 60, refresh: 300, logout: 60, me: 1000 };
const LOGIN_CONCURRENCY = 16;

/** A process's CPU time so far (µs) from /proc, or null. */
function procCpuUs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 (clock ticks of 10 ms on Linux).
    return (Number(f[11]) + Number(f[12])) * 1e4;
  } catch {
    return null;
  }
}
const sumCpu = (pids) => (pids.length === 0 || pids.some((p) => !p) ? null : pids.reduce((s, p) => s + (procCpuUs(p) ?? NaN), 0));

/** INFO commandstats (calls, usec per command) and total_reads_processed of one node. */
async function statsOf(client) {
  const info = await client.call('INFO', 'stats', 'commandstats');
  const cmds = {};
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) cmds[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  return { reads: Number(/total_reads_processed:(\d+)/.exec(info)[1]), cmds };
}

async function runClusterSection(ctx) {
  const { log, median, pct, sleep, freePort, startProcess, request, login, cpuRead, cleanups, appEnv, ours, single, password, poolEmail, refreshScenario, ROOT, DURATION, REPEATS, WARMUP, CONNECTIONS } = ctx;
  const MEMORY_SESSIONS = Number(process.env.BENCH_CLUSTER_MEMORY_SESSIONS ?? ctx.MEMORY_SESSIONS);
  log('cluster: starting a 3-master/3-replica Redis Cluster');
  const cluster = await startRedisCluster(freePort);
  cleanups.push(() => cluster.stop());
  const clusterEnv = { ...appEnv, REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.env };
  const probe = path.join(__dirname, 'eld-probe.js');
  const cl = await startProcess('cluster', path.join(ROOT, 'dist/main.js'), clusterEnv, ['-r', probe]);
  const clw = await startProcess('cluster-wait', path.join(ROOT, 'dist/main.js'), { ...clusterEnv, AUTH_REDIS_WAIT_REPLICAS: process.env.BENCH_CLUSTER_WAIT_REPLICAS ?? '1' }, ['-r', probe, ...(process.env.BENCH_CLUSTER_WAIT_NODE_ARGS ?? '').split(' ').filter(Boolean)]);
  const masters = await cluster.masters();
  const replicas = cluster.nodes.filter((n) => !masters.includes(n));
  log(`cluster on ${cluster.env} (masters ${masters.map((m) => m.port).join(', ')}); app 'cluster' :${cl.port}, 'cluster-wait' :${clw.port}`);
  const singleClient = new Redis(single.url, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => singleClient.disconnect());
  const targets = {
    single: { app: ours, statNodes: [{ client: singleClient, port: new URL(single.url).port }], masterPids: single.pid ? [single.pid] : [], replicaPids: [] },
    cluster: { app: cl, statNodes: masters, masterPids: masters.map((m) => m.pid), replicaPids: replicas.map((n) => n.pid) },
  };

  // ---- throughput: refresh and login, single vs cluster, alternating order per repeat ----
  const refresh = { single: refreshScenario(ours), cluster: refreshScenario(cl) };
  const loginRun = async (app, seconds, tokens) => {
    const emails = [];
    for (let i = 0; i < LOGIN_CONCURRENCY; i++) {
      const e = `bench-cl-${i}-${randomUUID()}@example.com`;
      const r = await request(app.port, 'POST', '/auth/register', { body: { email: e, password } });
      if (r.status !== 201) throw new Error(`register failed: ${r.status}`);
      emails.push(e);
    }
    const lat = [];
    let ok = 0;
    let failed = 0;
    const start = Date.now();
    await Promise.all(
      emails.map(async (email) => {
        while (Date.now() - start < seconds * 1000) {
          const t0 = process.hrtime.bigint();
          const r = await request(app.port, 'POST', '/auth/login', { body: { email, password, refreshTokenDelivery: 'body' } });
          lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (r.status === 200) {
            ok++;
            tokens?.push(r.body.accessToken);
          } else failed++;
        }
      }),
    );
    const elapsed = (Date.now() - start) / 1000;
    lat.sort((a, b) => a - b);
    return { requests: ok + failed, rps: ok / elapsed, p50: pct(lat, 50), p99: pct(lat, 99), failed };
  };
  /** Runs one measured load and adds app and Redis CPU per request. */
  const measured = async (name, target, run, app = targets[target].app) => {
    const t = targets[target];
    const cpu0 = await cpuRead(app.proc);
    const m0 = sumCpu(t.masterPids);
    const r0 = sumCpu(t.replicaPids);
    const res = await run();
    res.appCpuUs = (await cpuRead(app.proc) - cpu0) / res.requests;
    res.redisMasterCpuUs = m0 === null ? null : (sumCpu(t.masterPids) - m0) / res.requests;
    res.redisReplicaCpuUs = r0 === null ? null : (sumCpu(t.replicaPids) - r0) / res.requests;
    if (res.non2xx > 0 || res.errors > 0 || res.failed > 0) log(`WARNING ${name} ${target}: ${JSON.stringify({ non2xx: res.non2xx, errors: res.errors, failed: res.failed, statusCodes: res.statusCodes })}`);
    const f = (x) => (x === null || !Number.isFinite(x) ? '?' : x.toFixed(0));
    log(`  ${name.padEnd(7)} ${app.name.padEnd(12)} ${res.rps.toFixed(0).padStart(5)} req/s  p50 ${Number(res.p50).toFixed(1)} ms  p99 ${Number(res.p99).toFixed(1)} ms  app CPU ${f(res.appCpuUs)} µs/req  Redis CPU masters ${f(res.redisMasterCpuUs)}${t.replicaPids.length ? `, replicas ${f(res.redisReplicaCpuUs)}` : ''} µs/req`);
    return res;
  };
  /** Closed loop over `tokens`, 10 connections; given several apps, request n goes to apps[n % apps.length] (one result each). */
  const logoutRun = async (appOrApps, tokens) => {
    const apps = Array.isArray(appOrApps) ? appOrApps : [appOrApps];
    const stats = apps.map(() => ({ lat: [], ok: 0, failed: 0 }));
    const agents = apps.map(() => new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS }));
    let n = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let token = tokens.pop(); token !== undefined; token = tokens.pop()) {
          const k = n++ % apps.length;
          const t0 = process.hrtime.bigint();
          const status = await new Promise((resolve, reject) => {
            http
              .request({ host: '127.0.0.1', port: apps[k].port, method: 'POST', path: '/auth/logout', agent: agents[k], headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ctx.nextClient() } }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode));
              })
              .on('error', reject)
              .end();
          });
          stats[k].lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (status === 204) stats[k].ok++;
          else stats[k].failed++;
        }
      }),
    );
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    for (const a of agents) a.destroy();
    const out = stats.map(({ lat, ok, failed }) => {
      lat.sort((a, b) => a - b);
      return { requests: ok + failed, rps: ok / elapsed, p50: pct(lat, 50), p99: pct(lat, 99), failed };
    });
    return Array.isArray(appOrApps) ? out : out[0];
  };

  log(`cluster: warm-up ${WARMUP}s of refresh and login per target`);
  for (const target of ['single', 'cluster']) {
    await refresh[target].refill();
    await refresh[target].run(WARMUP);
    const tokens = [];
    await loginRun(targets[target].app, WARMUP, tokens);
    if (target === 'single') await logoutRun(ours, tokens);
    else await Promise.all([logoutRun(cl, tokens.splice(0, tokens.length >> 1)), logoutRun(clw, tokens)]);
  }
  // 'cluster-wait' serves only logouts below: the same warm-up as 'cluster' first, or its colder
  // code (JIT) reads as a cost of WAIT (an A/A run, BENCH_CLUSTER_WAIT_REPLICAS=0, showed 2× the CPU
  // per logout without it).
  const clwRefresh = refreshScenario(clw);
  await clwRefresh.refill();
  await clwRefresh.run(WARMUP);
  const clwTokens = [];
  await loginRun(clw, WARMUP, clwTokens);
  await logoutRun(clw, clwTokens);
  const runs = { refresh: { single: [], cluster: [] }, login: { single: [], cluster: [] }, logout: { single: [], cluster: [], 'cluster-wait': [] }, logoutPairRedis: [] };
  for (let r = 0; r < REPEATS; r++) {
    log(`cluster: repeat ${r + 1}/${REPEATS}`);
    const order = r % 2 === 0 ? ['single', 'cluster'] : ['cluster', 'single'];
    for (const target of order) {
      await refresh[target].refill();
      runs.refresh[target].push(await measured('refresh', target, () => refresh[target].run(DURATION)));
    }
    const tokens = { single: [], cluster: [] };
    for (const target of order) runs.login[target].push(await measured('login', target, () => loginRun(targets[target].app, DURATION, tokens[target])));
    // Logout: the sessions the login runs just made.
    // Single Redis on its own; the cluster's WAIT 0 and WAIT 1 instances interleaved request by
    // request in one run, so that the machine's noise and warmth hit both alike (run one after
    // the other, an A/A pair of identical instances read 0.74× the throughput and 1.45× the CPU).
    await ctx.cannon({ duration: 1, url: `${ours.base}/health/live`, headers: { 'x-forwarded-for': '192.0.2.10' } });
    runs.logout.single.push(await measured('logout', 'single', () => logoutRun(ours, tokens.single), ours));
    for (const app of [cl, clw]) await ctx.cannon({ duration: 1, url: `${app.base}/health/live`, headers: { 'x-forwarded-for': '192.0.2.10' } });
    const pair = r % 2 === 0 ? [cl, clw] : [clw, cl];
    const cpu0 = await Promise.all(pair.map((a) => cpuRead(a.proc)));
    const m0 = sumCpu(targets.cluster.masterPids);
    const r0 = sumCpu(targets.cluster.replicaPids);
    const res = await logoutRun(pair, tokens.cluster);
    const cpu1 = await Promise.all(pair.map((a) => cpuRead(a.proc)));
    const total = res.reduce((n, x) => n + x.requests, 0);
    const mixMaster = (sumCpu(targets.cluster.masterPids) - m0) / total;
    const mixReplica = (sumCpu(targets.cluster.replicaPids) - r0) / total;
    pair.forEach((app, i) => {
      const x = { ...res[i], appCpuUs: (cpu1[i] - cpu0[i]) / res[i].requests, redisMasterCpuUs: null, redisReplicaCpuUs: null };
      runs.logout[app === cl ? 'cluster' : 'cluster-wait'].push(x);
      log(`  logout  ${app.name.padEnd(12)} ${x.rps.toFixed(0).padStart(5)} req/s  p50 ${x.p50.toFixed(1)} ms  p99 ${x.p99.toFixed(1)} ms  app CPU ${x.appCpuUs.toFixed(0)} µs/req${x.failed ? `  WARNING ${x.failed} failed` : ''}`);
    });
    runs.logoutPairRedis.push({ master: mixMaster, replica: mixReplica });
    log(`  logout  both interleaved: Redis CPU masters ${mixMaster.toFixed(0)}, replicas ${mixReplica.toFixed(0)} µs/req`);
  }
  const summarise = (rs) => {
    const m = (k) => {
      const xs = rs.map((x) => x[k]).filter((x) => x !== null && x !== undefined && Number.isFinite(x));
      return xs.length ? +median(xs).toFixed(1) : null;
    };
    return { rps: m('rps'), p50: m('p50'), p99: m('p99'), appCpuUs: m('appCpuUs'), redisMasterCpuUs: m('redisMasterCpuUs'), redisReplicaCpuUs: m('redisReplicaCpuUs'), requestsPerRepeat: rs.map((x) => x.requests) };
  };
  const logoutPairRedis = { masterCpuUs: +median(runs.logoutPairRedis.map((x) => x.master)).toFixed(1), replicaCpuUs: +median(runs.logoutPairRedis.map((x) => x.replica)).toFixed(1) };
  delete runs.logoutPairRedis;
  const throughput = Object.fromEntries(Object.entries(runs).map(([op, byTarget]) => [op, Object.fromEntries(Object.entries(byTarget).map(([t, rs]) => [t, summarise(rs)]))]));

  // ---- commands and round trips per operation ----
  log('cluster: commands and round trips per operation (one at a time, minus an idle window)');
  const perOp = {};
  // MONITOR on a plain socket: ioredis's monitor() can take the first monitored line for a reply
  // ("Command queue state error") when it arrives with MONITOR's OK.
  const monitorsFor = async (nodes) => {
    const counts = {};
    const socks = [];
    for (const n of nodes) {
      const sock = net.connect(Number(n.port), '127.0.0.1');
      await new Promise((resolve, reject) => sock.once('connect', resolve).once('error', reject));
      sock.on('error', () => undefined);
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\r\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 2);
          // +1712345678.123456 [0 127.0.0.1:5555] "evalsha" ...   or   [0 lua] "hget" ...
          const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
          if (!m) continue;
          const name = m[2].toLowerCase();
          if (['info', 'monitor', 'config'].includes(name)) continue;
          const key = `${m[1] === 'lua' ? 'in script: ' : ''}${name}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
      });
      sock.write('MONITOR\r\n');
      socks.push(sock);
    }
    await sleep(50);
    return {
      counts,
      stop: async () => {
        await sleep(50);
        for (const sock of socks) sock.destroy();
      },
    };
  };
  const observe = async (nodes, work) => {
    const mon = await monitorsFor(nodes);
    const before = await Promise.all(nodes.map((n) => statsOf(n.client)));
    const t0 = Date.now();
    const extra = await work();
    const ms = Date.now() - t0;
    const after = await Promise.all(nodes.map((n) => statsOf(n.client)));
    await mon.stop();
    const usec = {};
    let reads = 0;
    nodes.forEach((_, i) => {
      reads += after[i].reads - before[i].reads;
      for (const [k, v] of Object.entries(after[i].cmds)) {
        const d = v.usec - (before[i].cmds[k]?.usec ?? 0);
        if (d > 0 && k !== 'info') usec[k] = (usec[k] ?? 0) + d;
      }
    });
    return { ms, reads, counts: mon.counts, usec, extra };
  };
  const perOpOf = async (target, kind, n, op, app = targets[target].app) => {
    const nodes = targets[target].statNodes;
    const lat = [];
    const busy = await observe(nodes, async () => {
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        await op(i, app);
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    });
    const idle = await observe(nodes, () => sleep(busy.ms));
    const per = (a, b) => +((a - (b ?? 0)) / n).toFixed(2);
    const commands = {};
    for (const k of new Set([...Object.keys(busy.counts), ...Object.keys(idle.counts)])) {
      const v = per(busy.counts[k] ?? 0, idle.counts[k]);
      if (Math.abs(v) >= 0.01) commands[k] = v;
    }
    const sent = Object.entries(commands).filter(([k]) => !k.startsWith('in script: ')).reduce((s, [, v]) => s + v, 0);
    // commandstats time of what the app sent: a script's inner commands are counted inside its EVALSHA as well.
    let usec = 0;
    for (const [k, v] of Object.entries(busy.usec)) {
      const name = k.replace(/\|.*/, '');
      const total = (busy.counts[name] ?? 0) + (busy.counts[`in script: ${name}`] ?? 0);
      usec += total ? (v * (busy.counts[name] ?? 0)) / total : 0;
    }
    for (const [k, v] of Object.entries(idle.usec)) {
      const name = k.replace(/\|.*/, '');
      const total = (idle.counts[name] ?? 0) + (idle.counts[`in script: ${name}`] ?? 0);
      usec -= total ? (v * (idle.counts[name] ?? 0)) / total : 0;
    }
    lat.sort((a, b) => a - b);
    const res = { n, commandsSent: +sent.toFixed(2), roundTrips: per(busy.reads, idle.reads), redisUsec: +(usec / n).toFixed(1), latencyP50Ms: +median(lat).toFixed(2), commands };
    log(`  ${target.padEnd(12)} ${kind.padEnd(8)} ${res.commandsSent} commands, ${res.roundTrips} round trips, ${res.redisUsec} µs Redis, p50 ${res.latencyP50Ms} ms  ${JSON.stringify(commands)}`);
    return res;
  };
  for (const target of ['single', 'cluster']) {
    const app = targets[target].app;
    const email = `bench-op-${randomUUID()}@example.com`;
    if ((await request(app.port, 'POST', '/auth/register', { body: { email, password } })).status !== 201) throw new Error('register failed');
    const logins = [];
    perOp[target] = {};
    perOp[target].login = await perOpOf(target, 'login', OP_COUNTS.login, async () => logins.push(await login(app, email, password)));
    let token = logins[0].refreshToken;
    perOp[target].refresh = await perOpOf(target, 'refresh', OP_COUNTS.refresh, async () => {
      const r = await request(app.port, 'POST', '/auth/refresh', { body: { refreshToken: token } });
      if (r.status !== 200) throw new Error(`refresh failed: ${r.status}`);
      token = r.body.refreshToken;
    });
    const bearer = { authorization: `Bearer ${logins[1].accessToken}` };
    perOp[target].me = await perOpOf(target, 'me', OP_COUNTS.me, async () => {
      const r = await request(app.port, 'GET', '/auth/me', { headers: bearer });
      if (r.status !== 200) throw new Error(`me failed: ${r.status}`);
    });
    const logoutOp = async (i, via) => {
      const r = await request(via.port, 'POST', '/auth/logout', { headers: { authorization: `Bearer ${logins[i].accessToken}` } });
      if (r.status !== 204) throw new Error(`logout failed: ${r.status}`);
    };
    perOp[target].logout = await perOpOf(target, 'logout', OP_COUNTS.logout, logoutOp);
    if (target === 'cluster') {
      // Another account: one user keeps at most 100 sessions, and an eviction would revoke one of these.
      const other = `bench-op-${randomUUID()}@example.com`;
      if ((await request(cl.port, 'POST', '/auth/register', { body: { email: other, password } })).status !== 201) throw new Error('register failed');
      logins.length = 0;
      for (let i = 0; i < OP_COUNTS.logout; i++) logins.push(await login(cl, other, password));
      perOp[target]['logout, WAIT 1'] = await perOpOf('cluster', 'logout W1', OP_COUNTS.logout, logoutOp, clw);
    }
  }

  // ---- bytes per session on the cluster ----
  log(`cluster: memory, ${MEMORY_SESSIONS} sessions`);
  const memory = await clusterSessionMemory(cluster, masters, MEMORY_SESSIONS, ROOT, sleep);
  log(`  ${memory.bytesPerSession} bytes per session over the masters (${memory.sessions} sessions)`);

  // ---- the cluster bus's fan-out of a PUBLISH (every node gets every message) ----
  const fanout = await publishFanout(cluster, masters[0], sleep);
  log(`  PUBLISH fan-out: ${fanout.publisherCpuUs} µs on the publishing master, ${fanout.otherNodesCpuUs} µs on the other ${cluster.nodes.length - 1} nodes together, per message`);
  return { throughput, logoutPairRedis, perOp, memory, fanout, nodes: { masters: masters.length, replicas: replicas.length } };
}

/**
 * CPU per PUBLISH of a revocation-sized message (38 bytes) on a channel nobody subscribes to:
 * the publishing master's and that of the other nodes, which the cluster bus forwards it to.
 */
async function publishFanout(cluster, publisher, sleep) {
  const count = 20000;
  const message = 'x'.repeat(38);
  const others = cluster.nodes.filter((n) => n !== publisher);
  const cpu = () => [procCpuUs(publisher.pid), sumCpu(others.map((n) => n.pid))];
  const cpu0 = cpu();
  const t0 = Date.now();
  for (let i = 0; i < count; i += 500) {
    const p = publisher.client.pipeline();
    for (let j = 0; j < 500; j++) p.publish('bench:fanout', message);
    await p.exec();
  }
  await sleep(500); // the bus delivers the rest
  const cpu1 = cpu();
  // The same time idle: the nodes' own cron, the bus's pings, the apps' heartbeats.
  await sleep(Date.now() - t0);
  const cpu2 = cpu();
  const per = (k) => +((cpu1[k] - cpu0[k] - (cpu2[k] - cpu1[k])) / count).toFixed(2);
  return { messages: count, publisherCpuUs: per(0), otherNodesCpuUs: per(1) };
}

/** The session store of dist/ on an ioredis Cluster: sessions made and rotated as in run.js's measureSessionMemory. */
async function clusterSessionMemory(cluster, masters, count, ROOT, sleep) {
  const { RedisSessionStore } = require(path.join(ROOT, 'dist/auth/sessions/session-store.redis-adapter'));
  const { SEALED_SUCCESSOR_BYTES } = require(path.join(ROOT, 'dist/auth/tokens/refresh-token.codec'));
  const { newSessionId } = require(path.join(ROOT, 'dist/auth/tokens/session-id.codec'));
  const client = new Redis.Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), { redisOptions: { maxRetriesPerRequest: 1 } });
  client.on('error', () => undefined);
  const store = new RedisSessionStore(client, 'benchmem');
  // Without the replication buffers (the backlog fills up to its 1 MB per master as writes flow,
  // whatever they are) and the clients' buffers: what stays with the sessions.
  const used = async () => {
    await sleep(1000);
    const infos = await Promise.all(masters.map((m) => m.client.info('memory')));
    const field = (i, k) => Number(new RegExp(`${k}:(\\d+)`).exec(i)?.[1] ?? 0);
    const raw = infos.reduce((s, i) => s + field(i, 'used_memory'), 0);
    return [infos.reduce((s, i) => s + field(i, 'used_memory') - field(i, 'mem_total_replication_buffers') - field(i, 'mem_clients_normal'), 0), raw];
  };
  const keys = async () => (await Promise.all(masters.map((m) => m.client.dbsize()))).reduce((a, b) => a + b, 0);
  const h = (s) => createHash('sha256').update(s).digest();
  await client.ping();
  const before = await used();
  const keys0 = await keys();
  const now = Date.now();
  const batch = 500;
  for (let i = 0; i < count; i += batch) {
    const jobs = [];
    for (let j = i; j < Math.min(i + batch, count); j++) {
      const userId = randomUUID();
      const sid = newSessionId(now);
      const secret = randomBytes(32);
      jobs.push(
        store
          .create({ userId, sid, kind: 'api', createdAt: now, authTime: Math.floor(now / 1000), absoluteExpiresAt: now + 7 * 86400e3, idleTtlMs: 7 * 86400e3, deviceLabel: 'Chrome on macOS', bindingHash: '', secretHash: h(secret) })
          .then(() =>
            store.rotate({ userId, sid, kind: 'api', presentedHash: h(secret), genuine: true, nextHash: h(randomBytes(32)), sealedSuccessor: randomBytes(SEALED_SUCCESSOR_BYTES), now: now + 1, idleTtlMs: 7 * 86400e3, revokeAllOnReuse: false, cutoffTtlMs: 7 * 86400e3 }),
          ),
      );
    }
    await Promise.all(jobs);
  }
  const after = await used();
  const added = (await keys()) - keys0;
  client.disconnect();
  return { sessions: count, keys: added, bytesPerSession: Math.round((after[0] - before[0]) / count), rawUsedMemoryBytesPerSession: Math.round((after[1] - before[1]) / count), note: 'used_memory less replication and client buffers, summed over the 3 masters (each replica holds its master\'s copy again); one user per session' };
}

module.exports = { runClusterSection };
