import { storeUnavailable } from '../errors/auth-error.model';
import { redisCall } from './redis-call.helper';
import type { RedisClient } from './redis-connection.factory';

/** How long a revocation waits for its replicas before the request gets 503. */
export const REPLICA_WAIT_MS = 1000;

type Arg = string | number | Buffer;

/**
 * Runs one defined script (`command`, one key first) and, with `replicas` > 0, `WAIT replicas`
 * in the same pipeline: on a cluster a pipeline goes to the node of its key, so the WAIT asks the
 * master that took the write. Fewer acknowledgements in time: STORE_UNAVAILABLE (the write stays
 * on the master; the client retries an idempotent logout), so that an acknowledged revocation is
 * never undone by a failover.
 */
export function replicatedWrite<T>(redis: RedisClient, replicas: number, command: string, args: readonly Arg[]): Promise<T> {
  const scripted = redis as unknown as Record<string, (...a: readonly Arg[]) => Promise<T>>;
  if (replicas <= 0) return redisCall(() => scripted[command](...args));
  return redisCall(async () => {
    const pipeline = redis.pipeline() as unknown as Record<string, (...a: readonly Arg[]) => unknown> & { wait(n: number, ms: number): unknown; exec(): Promise<[Error | null, unknown][] | null> };
    pipeline[command](...args);
    pipeline.wait(replicas, REPLICA_WAIT_MS);
    const replies = await pipeline.exec();
    const [[writeError, result], [waitError, acked]] = replies ?? [[new Error('pipeline discarded'), null], [null, 0]];
    if (writeError) throw writeError;
    if (waitError || Number(acked) < replicas) throw storeUnavailable(waitError ?? new Error(`WAIT: ${String(acked)} of ${replicas} replicas`));
    return result as T;
  });
}
