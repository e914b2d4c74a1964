import { MemoryRevocationStore, type MemoryRevocationState } from '../revocation/revocation-store.memory-adapter';
import { MemorySessionStore, type MemorySessionState } from '../sessions/session-store.memory-adapter';
import { EmbeddedStateFile } from './embedded-state.file';

/** DI token: the in-memory session and revocation stores used when there is no Redis (null with Redis). */
export const EMBEDDED_STORES = Symbol('EMBEDDED_STORES');

export interface EmbeddedStores {
  readonly sessions: MemorySessionStore;
  readonly revocations: MemoryRevocationStore;
  /** Where they are kept across restarts; null: nowhere (EMBEDDED_DATA_DIR=':memory:'). */
  readonly file: EmbeddedStateFile | null;
}

const FORMAT_VERSION = 1;

interface StateFileContent {
  readonly version: typeof FORMAT_VERSION;
  readonly sessions: MemorySessionState;
  readonly revocations: MemoryRevocationState;
}

function isStateFileContent(v: unknown): v is StateFileContent {
  const c = v as Partial<StateFileContent> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    c.version === FORMAT_VERSION &&
    Array.isArray(c.sessions?.sessions) &&
    Array.isArray(c.sessions?.cutoffs) &&
    Array.isArray(c.revocations)
  );
}

/**
 * The stores of the embedded default (no REDIS_URL). With a directory, their state is loaded from
 * its state file now and every change is written back before the change's caller gets its answer,
 * so a logout, a revoke-all or a rotation holds across a restart. Failed-attempt and rate-limit
 * counters are not kept: a restart resets them, as it always did.
 *
 * A file that exists but cannot be read stops the boot rather than starting empty: starting empty
 * would silently accept the access tokens of sessions logged out before the restart.
 */
export function createEmbeddedStores(dir: string | null): EmbeddedStores {
  if (dir === null) return { sessions: new MemorySessionStore(), revocations: new MemoryRevocationStore(), file: null };

  const file = new EmbeddedStateFile(
    dir,
    (): StateFileContent => ({ version: FORMAT_VERSION, sessions: sessions.exportState(), revocations: revocations.exportState() }),
  );
  const persist = () => file.save();
  const sessions = new MemorySessionStore(Date.now, persist);
  const revocations = new MemoryRevocationStore(persist);
  try {
    const content = file.load();
    if (content !== null) {
      if (!isStateFileContent(content)) throw new Error(`not a version ${FORMAT_VERSION} auth state file`);
      sessions.importState(content.sessions);
      revocations.importState(content.revocations);
    }
  } catch (e) {
    throw new Error(
      `Auth: cannot read ${file.path} (${(e as Error).message}). Move it away to start with no sessions: everyone signs in ` +
        'again, and access tokens of sessions logged out before are accepted until they expire (ACCESS_TOKEN_TTL) ' +
        'unless the signing keys are replaced too.',
      { cause: e },
    );
  }
  return { sessions, revocations, file };
}
