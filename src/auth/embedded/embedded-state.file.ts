import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { storeUnavailable } from '../errors/auth-error.model';

/** The file's name inside EMBEDDED_DATA_DIR, beside the embedded user database's own files. */
export const EMBEDDED_STATE_FILE = 'auth-state.json';

/**
 * One JSON file holding the in-memory stores' state (sessions, revocations), so that the embedded
 * default keeps a logout across a restart. Every save writes the whole state to a temporary file,
 * flushes it to disk and renames it over the old one: a crash leaves the previous complete file,
 * never a torn one.
 *
 * Saves are group commits: a change made while a write is under way waits for the next write,
 * which one serialisation of the state covers for every change made meanwhile. A caller's promise
 * resolves once a write that began after its change is on disk, so there is no window (as a
 * debounce would leave) in which an answered logout exists only in memory, even if the process is
 * killed right after answering. The price is a small file write per state change, which the
 * single-process development set-up this serves can afford.
 */
export class EmbeddedStateFile {
  private readonly logger = new Logger('EmbeddedState');
  readonly path: string;
  private inFlight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  /** `collect` returns the state to write, JSON-safe; it is called when a write begins. */
  constructor(dir: string, private readonly collect: () => unknown) {
    const absolute = resolve(dir);
    mkdirSync(absolute, { recursive: true });
    this.path = join(absolute, EMBEDDED_STATE_FILE);
  }

  /** The parsed file, or null when there is none yet. Throws when it exists but is not JSON. */
  load(): unknown {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return JSON.parse(text) as unknown;
  }

  /** Resolves when the state as of this call is on disk; rejects with STORE_UNAVAILABLE if it cannot be written. */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.inFlight) return this.begin();
    const next = this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.begin();
      });
    this.queued = next;
    return next;
  }

  private begin(): Promise<void> {
    // Serialised now, synchronously: the write covers every change made before this line.
    const text = JSON.stringify(this.collect());
    const write = this.write(text).finally(() => {
      if (this.inFlight === write) this.inFlight = null;
    });
    this.inFlight = write;
    return write;
  }

  private async write(text: string): Promise<void> {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      const file = await open(tmp, 'w', 0o600);
      try {
        await file.writeFile(text, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
    } catch (e) {
      this.logger.error(`could not write ${this.path}: ${(e as Error).message}`);
      throw storeUnavailable(e);
    }
  }
}
