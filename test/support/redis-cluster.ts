import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { redisCommand, startRedis, type RedisHarness } from './redis-server';

/**
 * A private Redis Cluster for one test suite: 3 masters and 3 replicas, six redis-server
 * processes (test/support/redis-server.ts: free loopback ports, no persistence, reaped with the
 * test process), joined with `redis-cli --cluster create … --cluster-replicas 1`.
 *
 *   const cluster = await startRedisCluster();   // beforeAll: every slot served, replicas in sync
 *   new Cluster(cluster.seedNodes);               // ioredis
 *   await cluster.killMaster(slotOf('{u}'));      // SIGKILL; its replica takes over
 *   await cluster.stop();                         // afterAll
 *
 * A short cluster-node-timeout (1 s) makes a replica take over within a few seconds.
 */
export interface RedisClusterHarness {
  readonly nodes: readonly RedisHarness[];
  /** host:port of every node, for REDIS_CLUSTER_NODES or ioredis's Cluster. */
  readonly seedNodes: readonly { host: string; port: number }[];
  /** "127.0.0.1:p1,127.0.0.1:p2,…" */
  readonly env: string;
  /** FLUSHALL on every master. */
  flushAll(): Promise<void>;
  /** Resolves once every replica has every write its master had acknowledged when called. */
  waitReplicated(timeoutMs?: number): Promise<void>;
  /** The node that is master of `slot` now. */
  masterOf(slot: number): Promise<RedisHarness>;
  /** The live replica of `master` now. */
  replicaOf(master: RedisHarness): Promise<RedisHarness>;
  /**
   * Resolves once every slot is served, CLUSTER INFO says ok on every live node and every replica
   * has synced with its master (a replica that never synced cannot take over).
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const NODE_TIMEOUT_MS = 1000;

export async function startRedisCluster(): Promise<RedisClusterHarness> {
  const nodes: RedisHarness[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      // --cluster-config-file is written into the server's own temporary --dir.
      nodes.push(await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--repl-diskless-sync-delay', '0'] }));
    }
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
      timeout: 30_000,
    });
    const harness = new ClusterHarness(nodes);
    await harness.waitHealthy(30_000);
    return harness;
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill().catch(() => undefined)));
    throw err;
  }
}

class ClusterHarness implements RedisClusterHarness {
  readonly seedNodes: { host: string; port: number }[];
  readonly env: string;

  constructor(readonly nodes: RedisHarness[]) {
    this.seedNodes = nodes.map((n) => ({ host: n.host, port: n.port }));
    this.env = this.seedNodes.map((n) => `${n.host}:${n.port}`).join(',');
  }

  private live(): RedisHarness[] {
    return this.nodes.filter((n) => n.running);
  }

  async flushAll(): Promise<void> {
    for (const n of this.live()) {
      const info = await redisCommand(n.port, ['INFO', 'replication'], 2_000);
      if (/role:master/.test(info)) await n.flushAll();
    }
  }

  async waitReplicated(timeoutMs = 5_000): Promise<void> {
    const infos = await Promise.all(this.live().map(async (n) => ({ n, info: await redisCommand(n.port, ['INFO', 'replication'], 1_000) })));
    const targets = new Map<number, number>();
    for (const { n, info } of infos) if (/role:master/.test(info)) targets.set(n.port, Number(/master_repl_offset:(\d+)/.exec(info)?.[1]));
    const deadline = Date.now() + timeoutMs;
    for (const { n } of infos) {
      for (;;) {
        const info = await redisCommand(n.port, ['INFO', 'replication'], 1_000);
        if (/role:master/.test(info)) break;
        const target = targets.get(Number(/master_port:(\d+)/.exec(info)?.[1])) ?? 0;
        if (Number(/slave_repl_offset:(\d+)/.exec(info)?.[1] ?? -1) >= target) break;
        if (Date.now() > deadline) throw new Error(`replica ${n.port} has not caught up after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  async masterOf(slot: number): Promise<RedisHarness> {
    for (const n of this.live()) {
      const info = await redisCommand(n.port, ['INFO', 'replication'], 2_000).catch(() => '');
      if (!/role:master/.test(info)) continue;
      const shards = await slotsOf(n.port);
      if (shards.some(([lo, hi]) => slot >= lo && slot <= hi)) return n;
    }
    throw new Error(`no live master serves slot ${slot}`);
  }

  async replicaOf(master: RedisHarness): Promise<RedisHarness> {
    for (const n of this.live()) {
      const info = await redisCommand(n.port, ['INFO', 'replication'], 2_000).catch(() => '');
      if (/role:slave/.test(info) && Number(/master_port:(\d+)/.exec(info)?.[1]) === master.port) return n;
    }
    throw new Error(`no live replica of ${master.port}`);
  }

  async waitHealthy(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const states = await Promise.all(this.live().map((n) => redisCommand(n.port, ['CLUSTER', 'INFO'], 1_000).catch((e: Error) => e.message)));
      const replication = await Promise.all(this.live().map((n) => redisCommand(n.port, ['INFO', 'replication'], 1_000).catch((e: Error) => e.message)));
      const synced = replication.every((r) => /role:master/.test(r) || /master_link_status:up/.test(r));
      if (synced && states.every((s) => /cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s))) return;
      last = states.join(' | ').replace(/\r\n/g, ' ').slice(0, 400);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the cluster is not healthy after ${timeoutMs} ms: ${last}`);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill().catch(() => undefined)));
  }
}

/** The slot ranges a master serves, from CLUSTER NODES ("myself" line). */
async function slotsOf(port: number): Promise<[number, number][]> {
  const text = await redisCommand(port, ['CLUSTER', 'NODES'], 2_000);
  const mine = text.split('\n').find((l) => l.includes('myself'));
  if (!mine) return [];
  return mine
    .trim()
    .split(' ')
    .slice(8)
    .filter((f) => /^\d+(-\d+)?$/.test(f))
    .map((f) => {
      const [lo, hi] = f.split('-').map(Number);
      return [lo, hi ?? lo] as [number, number];
    });
}

/** Redis Cluster's key slot: CRC16 (XMODEM) of the hash tag, or of the whole key, mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
