import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/*
 * A helper thread that signs access tokens while the event loop waits for the session store.
 *
 * A refresh knows every claim of its new access token before it asks Redis to rotate the session,
 * so the signature is started then, on this thread, and collected after the round trip — without
 * waiting: if the thread has finished (the usual case: the round trip outlasts one ECDSA
 * signature), the signature is read from shared memory; if not, the job is withdrawn and the
 * token is signed on the event loop as before. Nothing here ever waits for the thread or depends
 * on it being alive, so it can only take work off the event loop, never add latency.
 *
 * Shared memory, one SharedArrayBuffer:
 *   Int32 control: [0] submissions (the thread waits on it), then per slot: state, input length,
 *   output length, then [SLEEPING]; then per slot MAX_INPUT bytes of signing input and MAX_OUTPUT
 *   of signature.
 * Waking the thread: a futex wake per job cost the event loop ~20 µs on a VM (a cross-CPU
 * interrupt), as much as the signature. So while jobs keep coming the thread polls (a timed wait
 * of POLL_MS) and nobody wakes it; after BUSY_MS without a job it sets SLEEPING and waits for a
 * notify, which the event loop sends only then.
 * Slot states, each change an atomic store or compare-exchange:
 *   FREE -> PENDING (event loop, input written) -> SIGNING (thread claimed it) -> DONE (output written)
 *   PENDING -> FREE and SIGNING -> ABANDONED: the event loop withdrew the job (it signs itself);
 *   the thread frees an ABANDONED slot when it finishes. DONE -> FREE once read or discarded;
 *   SIGNING -> FAILED when the thread could not sign (the event loop then signs, and frees it).
 */
const FREE = 0;
const PENDING = 1;
const SIGNING = 2;
const DONE = 3;
const ABANDONED = 4;
const FAILED = 5;

const SLOTS = 64;
/** Signing input larger than this is signed on the event loop (ours are ~400 bytes). */
export const MAX_SIGNING_INPUT = 2048;
/** Large enough for an RSA-4096 signature; ES256 (IEEE P1363) is 64 bytes. */
const MAX_OUTPUT = 512;
const SLEEPING = 1 + SLOTS * 3;
const CONTROL_INTS = SLEEPING + 1;
/** The thread's poll interval while busy, and how long it stays busy after its last job (ms). */
const POLL_MS = 0.5;
const BUSY_MS = 50;
const CONTROL_BYTES = CONTROL_INTS * 4;
const SLOT_BYTES = MAX_SIGNING_INPUT + MAX_OUTPUT;

export type SignFn = (input: Buffer) => Buffer;

/** A signature being made on the thread: `take()` returns it (or signs here), `discard()` drops it. */
export interface PendingSignature {
  /** Whether take() would return at once, without signing here. */
  ready(): boolean;
  take(): Buffer;
  discard(): void;
}

/** A signature made here, on the event loop, when first taken (and only once). */
export function inlineSignature(sign: () => Buffer): PendingSignature {
  let sig: Buffer | undefined;
  return {
    ready: () => sig !== undefined,
    take: () => (sig ??= sign()),
    discard: () => undefined,
  };
}

// The thread's code, self-contained so that it runs the same from dist/ and under ts-jest.
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { sign } = require('node:crypto');
const { sab, key, options, slots, controlInts, controlBytes, slotBytes, maxInput } = workerData;
const ctl = new Int32Array(sab, 0, controlInts);
const bytes = Buffer.from(sab, controlBytes);
let cursor = 0;
let lastJob = performance.now();
for (;;) {
  const seen = Atomics.load(ctl, 0);
  let worked = false;
  for (let n = 0; n < slots; n++) {
    const i = (cursor + n) % slots;
    const at = 1 + i * 3;
    if (Atomics.compareExchange(ctl, at, ${PENDING}, ${SIGNING}) !== ${PENDING}) continue;
    worked = true;
    cursor = i + 1;
    const len = Atomics.load(ctl, at + 1);
    const base = i * slotBytes;
    let ok = false;
    try {
      const sig = sign('sha256', bytes.subarray(base, base + len), { key, ...options });
      if (sig.length <= ${MAX_OUTPUT}) {
        sig.copy(bytes, base + maxInput);
        Atomics.store(ctl, at + 2, sig.length);
        ok = true;
      }
    } catch {}
    // Withdrawn meanwhile (ABANDONED): the event loop signed it itself, so the slot is ours to free.
    if (Atomics.compareExchange(ctl, at, ${SIGNING}, ok ? ${DONE} : ${FAILED}) !== ${SIGNING}) Atomics.store(ctl, at, ${FREE});
  }
  if (worked) {
    lastJob = performance.now();
  } else if (performance.now() - lastJob < ${BUSY_MS}) {
    Atomics.wait(ctl, 0, seen, ${POLL_MS});
  } else {
    // Announce the sleep, then look once more: a job posted before the flag was visible changed
    // the counter, so the wait returns at once; one posted after it is followed by a notify.
    Atomics.store(ctl, ${SLEEPING}, 1);
    Atomics.wait(ctl, 0, seen);
    Atomics.store(ctl, ${SLEEPING}, 0);
    lastJob = performance.now();
  }
}
`;

/**
 * Off-event-loop signing for one key. `start` returns a pending signature that is always
 * resolvable synchronously; `close` ends the thread. Create with `SigningThread.start`; when the
 * thread cannot start or dies, every signature is made inline.
 */
export class SigningThread {
  private readonly ctl: Int32Array;
  private readonly bytes: Buffer;
  private cursor = 0;
  private alive = true;
  private readonly stats = { offloaded: 0, inline: 0 };

  private constructor(
    private readonly worker: Worker,
    sab: SharedArrayBuffer,
    private readonly signInline: SignFn,
  ) {
    this.ctl = new Int32Array(sab, 0, CONTROL_INTS);
    this.bytes = Buffer.from(sab, CONTROL_BYTES);
    worker.unref();
    const dead = (): void => {
      this.alive = false;
    };
    worker.on('error', dead);
    worker.on('exit', dead);
  }

  static start(key: KeyObject, options: Readonly<Record<string, unknown>>, signInline: SignFn): SigningThread {
    const sab = new SharedArrayBuffer(CONTROL_BYTES + SLOTS * SLOT_BYTES);
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { sab, key, options, slots: SLOTS, controlInts: CONTROL_INTS, controlBytes: CONTROL_BYTES, slotBytes: SLOT_BYTES, maxInput: MAX_SIGNING_INPUT },
      // The thread needs little: a small heap, no stdin.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
      stdin: false,
    });
    return new SigningThread(worker, sab, signInline);
  }

  /** Hands `input` (ASCII: a JWS signing input) to the thread; signs inline when it is full, dead or the input too long. */
  begin(input: string): PendingSignature {
    if (!this.alive || input.length > MAX_SIGNING_INPUT) return this.inline(input);
    let slot = -1;
    for (let n = 0; n < SLOTS; n++) {
      const i = (this.cursor + n) % SLOTS;
      if (Atomics.load(this.ctl, 1 + i * 3) === FREE) {
        slot = i;
        break;
      }
    }
    if (slot < 0) return this.inline(input);
    this.cursor = slot + 1;
    const at = 1 + slot * 3;
    const base = slot * SLOT_BYTES;
    const len = this.bytes.write(input, base, MAX_SIGNING_INPUT, 'latin1');
    Atomics.store(this.ctl, at + 1, len);
    Atomics.store(this.ctl, at, PENDING);
    Atomics.add(this.ctl, 0, 1);
    if (Atomics.load(this.ctl, SLEEPING) === 1) Atomics.notify(this.ctl, 0, 1);
    return new ThreadSignature(this, slot, input);
  }

  /** @internal The signature in `slot` if the thread finished it, else null (the job is withdrawn). */
  collect(slot: number, keep: boolean): Buffer | null {
    const at = 1 + slot * 3;
    for (;;) {
      const state = Atomics.load(this.ctl, at);
      // Withdraw a job the thread has not claimed, or mark one it is signing as abandoned.
      if (state === PENDING || state === SIGNING) {
        if (Atomics.compareExchange(this.ctl, at, state, state === PENDING ? FREE : ABANDONED) === state) return null;
        continue; // the thread moved it on meanwhile
      }
      let out: Buffer | null = null;
      if (state === DONE && keep) {
        const base = slot * SLOT_BYTES + MAX_SIGNING_INPUT;
        out = Buffer.from(this.bytes.subarray(base, base + Atomics.load(this.ctl, at + 2)));
      }
      if (state === DONE || state === FAILED) Atomics.store(this.ctl, at, FREE);
      return out;
    }
  }

  /** @internal Whether the thread has finished the job in `slot`. */
  done(slot: number): boolean {
    return Atomics.load(this.ctl, 1 + slot * 3) === DONE;
  }

  /** @internal */
  signHere(input: string): Buffer {
    this.stats.inline++;
    return this.signInline(Buffer.from(input, 'latin1'));
  }

  /** @internal */
  countOffloaded(): void {
    this.stats.offloaded++;
  }

  /** How many signatures came from the thread and how many were made inline, since start. */
  counts(): { readonly offloaded: number; readonly inline: number } {
    return { ...this.stats };
  }

  get running(): boolean {
    return this.alive;
  }

  async close(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }

  private inline(input: string): PendingSignature {
    return inlineSignature(() => this.signHere(input));
  }
}

class ThreadSignature implements PendingSignature {
  private settled: Buffer | null | undefined;

  constructor(
    private readonly thread: SigningThread,
    private readonly slot: number,
    private readonly input: string,
  ) {}

  ready(): boolean {
    return this.settled ? true : this.settled === undefined && this.thread.done(this.slot);
  }

  take(): Buffer {
    if (this.settled) return this.settled;
    const fromThread = this.settled === undefined ? this.thread.collect(this.slot, true) : null;
    if (fromThread) this.thread.countOffloaded();
    this.settled = fromThread ?? this.thread.signHere(this.input);
    return this.settled;
  }

  discard(): void {
    if (this.settled === undefined) this.thread.collect(this.slot, false);
    this.settled ??= null;
  }
}
