import { ReplyError } from 'ioredis';
import { storeUnavailable } from '../errors/auth-error.model';

/**
 * Runs one Redis operation. Connection-level failures (down, timeout, not ready) become
 * STORE_UNAVAILABLE (503); a ReplyError is a bug in our own commands and stays an internal error.
 */
export async function redisCall<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if (e instanceof ReplyError && !/^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)/.test((e as Error).message)) throw e;
    throw storeUnavailable(e);
  }
}
