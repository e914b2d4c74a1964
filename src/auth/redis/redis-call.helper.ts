import { ReplyError } from 'ioredis';
import { storeUnavailable } from '../errors/auth-error.model';

/**
 * Runs one Redis operation. Connection-level failures (down, timeout, not ready) become
 * STORE_UNAVAILABLE (503); a ReplyError is a bug in our own commands and stays an internal error.
 */
export function redisCall<T>(op: () => Promise<T>): Promise<T> {
  // A plain promise chain rather than an async function: one promise and one resumption less on
  // every store call.
  try {
    return op().catch(rethrowAsStoreError);
  } catch (e) {
    return Promise.reject(asStoreError(e));
  }
}

function rethrowAsStoreError(e: unknown): never {
  throw asStoreError(e);
}

function asStoreError(e: unknown): unknown {
  if (e instanceof ReplyError && !/^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)/.test((e as Error).message)) return e;
  return storeUnavailable(e);
}
