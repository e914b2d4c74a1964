'use strict';
/**
 * A private Redis Cluster for the bench: 3 masters and 3 replicas, six redis-server processes on
 * free loopback ports, no persistence, joined with `redis-cli --cluster create … --cluster-replicas 1`.
 * The start logic of test/support/redis-cluster.ts, in plain JS (the bench runs without ts-node).
 *
 *   const cluster = await startRedisCluster(freePort);
 *   cluster.env                       // "127.0.0.1:p1,…" for REDIS_CLUSTER_NODES
 *   await cluster.masters()           // the nodes that are masters now ({ port, pid })
 *   await cluster.stop()
 */
const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const Redis = require('ioredis');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startNode(port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cluster-'));
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--repl-diskless-sync-delay', '0'],
    { stdio: 'ignore' },
  );
  const node = {
    port,
    pid: proc.pid,
    client: null,
    stop: async () => {
      node.client?.disconnect();
      proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < 100; i++) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      node.client = c;
      return node;
    } catch {
      c.disconnect();
      await sleep(50);
    }
  }
  await node.stop();
  throw new Error(`cluster node :${port} did not start`);
}

async function startRedisCluster(freePort) {
  const nodes = [];
  try {
    for (let i = 0; i < 6; i++) nodes.push(await startNode(await freePort()));
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30000 });
    // Healthy: every slot served on every node, every replica in sync with its master.
    for (let t = Date.now(); ; await sleep(100)) {
      const infos = await Promise.all(nodes.map(async (n) => [await n.client.cluster('INFO'), await n.client.info('replication')]));
      if (infos.every(([c, r]) => /cluster_state:ok/.test(c) && /cluster_slots_ok:16384/.test(c) && (/role:master/.test(r) || /master_link_status:up/.test(r)))) break;
      if (Date.now() - t > 30000) throw new Error('the bench cluster is not healthy after 30 s');
    }
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw e;
  }
  return {
    nodes,
    env: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async masters() {
      const roles = await Promise.all(nodes.map((n) => n.client.info('replication')));
      return nodes.filter((_, i) => /role:master/.test(roles[i]));
    },
    stop: () => Promise.all(nodes.map((n) => n.stop())),
  };
}

module.exports = { startRedisCluster };
