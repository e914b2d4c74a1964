import { redisCommand, startRedis, type RedisHarness } from './redis-server';

/**
 * A private Sentinel set-up for one test suite: a master, one replica and three sentinels
 * (test/support/redis-server.ts processes) watching it as `name`, with short timeouts so that a
 * failover takes a few seconds.
 *
 *   const s = await startRedisSentinel();   // the replica has synced; the sentinels agree
 *   REDIS_SENTINELS=s.env, REDIS_SENTINEL_NAME=s.name
 *   await s.master.kill();                  // the sentinels promote the replica
 */
export interface RedisSentinelHarness {
  readonly name: string;
  readonly master: RedisHarness;
  readonly replica: RedisHarness;
  readonly sentinels: readonly RedisHarness[];
  /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3" */
  readonly env: string;
  /** Resolves once the replica has every write the master has acknowledged so far. */
  waitReplicated(): Promise<void>;
  /** The port the sentinels name as master now. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

const NAME = 'auth-master';

export async function startRedisSentinel(): Promise<RedisSentinelHarness> {
  const started: RedisHarness[] = [];
  const track = (h: RedisHarness): RedisHarness => (started.push(h), h);
  try {
    const master = track(await startRedis({ args: ['--repl-diskless-sync-delay', '0'] }));
    const replica = track(await startRedis({ args: ['--replicaof', master.host, String(master.port)] }));
    await waitFor(async () => /master_link_status:up/.test(await redisCommand(replica.port, ['INFO', 'replication'], 1_000)), 15_000, 'the replica to sync');
    const config = [
      `sentinel monitor ${NAME} ${master.host} ${master.port} 2`,
      `sentinel down-after-milliseconds ${NAME} 1000`,
      `sentinel failover-timeout ${NAME} 5000`,
      `sentinel parallel-syncs ${NAME} 1`,
      '',
    ].join('\n');
    const sentinels: RedisHarness[] = [];
    for (let i = 0; i < 3; i++) sentinels.push(track(await startRedis({ config, args: ['--sentinel'] })));
    // Every sentinel knows the replica and the two other sentinels: a failover can be voted.
    await waitFor(
      async () => {
        const infos = await Promise.all(sentinels.map((s) => redisCommand(s.port, ['INFO', 'sentinel'], 1_000)));
        return infos.every((i) => new RegExp(`name=${NAME},status=ok,address=[^,]+,slaves=1,sentinels=3`).test(i));
      },
      20_000,
      'the sentinels to find each other and the replica',
    );
    return {
      name: NAME,
      master,
      replica,
      sentinels,
      env: sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      async waitReplicated() {
        const offset = (info: string) => Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? -1);
        const target = offset(await redisCommand(master.port, ['INFO', 'replication'], 1_000));
        await waitFor(async () => offset(await redisCommand(replica.port, ['INFO', 'replication'], 1_000)) >= target, 5_000, 'the replica to catch up');
      },
      async masterPort() {
        const info = await redisCommand(sentinels.find((s) => s.running)!.port, ['INFO', 'sentinel'], 1_000);
        return Number(new RegExp(`name=${NAME},status=\\w+,address=[^:]+:(\\d+)`).exec(info)?.[1]);
      },
      stop: () => Promise.all(started.map((h) => h.kill().catch(() => undefined))).then(() => undefined),
    };
  } catch (err) {
    await Promise.all(started.map((h) => h.kill().catch(() => undefined)));
    throw err;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
