import { generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { MAX_SIGNING_INPUT, SigningThread, type PendingSignature } from './signing.thread';

const ES256 = { dsaEncoding: 'ieee-p1363' } as const;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until the thread has finished every signature (it signs in tens of microseconds; the first one waits for the thread to start). */
async function settled(pending: readonly PendingSignature[], timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pending.every((p) => p.ready())) {
    if (Date.now() > until) throw new Error('the signing thread did not finish in time');
    await sleep(2);
  }
}

describe('SigningThread', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let inlineCalls: number;
  const signInline = (input: Buffer): Buffer => {
    inlineCalls++;
    return cryptoSign('sha256', input, { key: privateKey, ...ES256 });
  };
  const valid = (input: string, sig: Buffer, key: KeyObject = publicKey): boolean =>
    sig.length === 64 && cryptoVerify('sha256', Buffer.from(input, 'latin1'), { key, ...ES256 }, sig);
  let thread: SigningThread;

  beforeEach(() => {
    inlineCalls = 0;
    thread = SigningThread.start(privateKey, ES256, signInline);
  });

  afterEach(async () => {
    await thread.close();
  });

  it('signs on the thread: a finished signature is read, not made, on take()', async () => {
    const input = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZGEifQ';
    const p = thread.begin(input);
    await settled([p]);
    const sig = p.take();
    expect(valid(input, sig)).toBe(true);
    expect(inlineCalls).toBe(0);
    expect(thread.counts()).toEqual({ offloaded: 1, inline: 0 });
    // take() is idempotent: the same signature, no second signing.
    expect(p.take()).toBe(sig);
    expect(thread.counts()).toEqual({ offloaded: 1, inline: 0 });
  });

  it('never waits: a signature taken before the thread finished is made here, and is just as valid', async () => {
    // Many jobs at once, taken immediately: the thread cannot have finished all of them.
    const inputs = Array.from({ length: 40 }, (_, i) => `header.payload-${i}`);
    const pending = inputs.map((i) => thread.begin(i));
    const sigs = pending.map((p) => p.take());
    sigs.forEach((s, i) => expect(valid(inputs[i], s)).toBe(true));
    const c = thread.counts();
    expect(c.offloaded + c.inline).toBe(40);
    expect(c.inline).toBeGreaterThan(0);
    expect(inlineCalls).toBe(c.inline);
    // Every slot came back: 64 new jobs all go to the thread once it has caught up.
    await sleep(50);
    const next = Array.from({ length: 64 }, (_, i) => thread.begin(`again-${i}`));
    await settled(next);
    next.forEach((p, i) => expect(valid(`again-${i}`, p.take())).toBe(true));
    expect(thread.counts().offloaded - c.offloaded).toBe(64);
  });

  it('signs inline when all 64 slots are in use, and reuses slots once discarded', async () => {
    const held = Array.from({ length: 64 }, (_, i) => thread.begin(`held-${i}`));
    const overflow = thread.begin('overflow');
    expect(valid('overflow', overflow.take())).toBe(true);
    expect(inlineCalls).toBe(1);
    await settled(held);
    held.forEach((p) => p.discard());
    // Discarded: the slots are free again, and a discarded signature is never counted.
    expect(thread.counts()).toEqual({ offloaded: 0, inline: 1 });
    const more = Array.from({ length: 64 }, (_, i) => thread.begin(`more-${i}`));
    await settled(more);
    more.forEach((p, i) => expect(valid(`more-${i}`, p.take())).toBe(true));
    expect(thread.counts()).toEqual({ offloaded: 64, inline: 1 });
  });

  it('a job discarded before the thread reached it or while it signs frees its slot all the same', async () => {
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 64 }, (_, i) => thread.begin(`discard-${round}-${i}`));
      batch.forEach((p) => p.discard());
      await sleep(20);
    }
    const after = Array.from({ length: 64 }, (_, i) => thread.begin(`after-${i}`));
    await settled(after);
    expect(after.every((p, i) => valid(`after-${i}`, p.take()))).toBe(true);
    expect(inlineCalls).toBe(0);
  });

  it('signing input longer than a slot is signed inline', () => {
    const input = 'x'.repeat(MAX_SIGNING_INPUT + 1);
    const p = thread.begin(input);
    expect(p.ready()).toBe(false);
    expect(valid(input, p.take())).toBe(true);
    expect(inlineCalls).toBe(1);
  });

  it('when the thread cannot sign (a key it rejects), the event loop signs instead', async () => {
    await thread.close();
    // An RSA key with ECDSA-only options the thread's sign() refuses; the inline signer is fine.
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    thread = SigningThread.start(rsa.privateKey, { dsaEncoding: 'ieee-p1363', padding: 12345 }, signInline);
    const p = thread.begin('header.payload');
    await sleep(200);
    expect(p.ready()).toBe(false);
    expect(valid('header.payload', p.take())).toBe(true);
    expect(thread.counts()).toEqual({ offloaded: 0, inline: 1 });
    // Its slot was freed: the thread keeps failing, the event loop keeps signing, nothing is lost.
    const again = Array.from({ length: 70 }, (_, i) => thread.begin(`retry-${i}`));
    expect(again.every((q, i) => valid(`retry-${i}`, q.take()))).toBe(true);
  });

  it('after close(), or with jobs in flight when it ends, every signature is made inline', async () => {
    const inFlight = Array.from({ length: 20 }, (_, i) => thread.begin(`flight-${i}`));
    await thread.close();
    expect(thread.running).toBe(false);
    expect(inFlight.every((p, i) => valid(`flight-${i}`, p.take()))).toBe(true);
    const late = thread.begin('late');
    expect(valid('late', late.take())).toBe(true);
    const c = thread.counts();
    expect(c.offloaded + c.inline).toBe(21);
  });
});
