import { Logger } from '@nestjs/common';
import type { AuthSettings } from '../common/auth-settings';
import { AuthError } from '../errors/auth-error.model';
import { newSessionId } from '../tokens/session-id.codec';
import { MemoryRevocationStore } from './revocation-store.memory-adapter';
import { RevocationView } from './revocation-view.service';
import type { RevocationEntry, RevocationListener } from './revocation-store.port';

const MAX_STALENESS = 5_000;

class ManualClock {
  t = 1_750_000_000_000;
  now = (): number => this.t;
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued promise callbacks run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('RevocationView', () => {
  let clock: ManualClock;
  let store: MemoryRevocationStore;
  let view: RevocationView;
  /** The listener the view registered with the store: the test plays the store's feed with it. */
  let feed: () => RevocationListener;
  /** What the feed's heartbeat answers (by default at once, as the in-process feed does). */
  let probe: jest.Mock<Promise<void>, []>;

  beforeEach(() => {
    // The heartbeat's interval is the test's to run (view.heartbeat()); timeouts stay real.
    jest.useFakeTimers({ doNotFake: ['Date', 'nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'queueMicrotask'] });
    clock = new ManualClock();
    store = new MemoryRevocationStore();
    probe = jest.fn(async () => undefined);
    const subscribe = store.subscribe.bind(store);
    const spy = jest.spyOn(store, 'subscribe').mockImplementation(async (l) => ({ ...(await subscribe(l)), probe: () => probe() }));
    feed = () => spy.mock.calls[0][0];
    view = new RevocationView(store, { revocationMaxStaleness: MAX_STALENESS } as AuthSettings, clock);
  });

  afterEach(async () => {
    await view.onApplicationShutdown();
    jest.useRealTimers();
  });

  const session = (sid: string, ttl = 60_000): RevocationEntry => ({ kind: 'session', sid, expiresAt: clock.now() + ttl });

  it('is "stale" (never "ok") before the first load', () => {
    expect(view.check(newSessionId(clock.now()), 'u')).toBe('stale');
  });

  it('after start: loads what the store holds, and is connected', async () => {
    const sid = newSessionId(clock.now() - 10);
    await store.add(session(sid), clock.now());
    await view.onModuleInit();
    await flush();
    expect(view.isConnected).toBe(true);
    expect(view.check(sid, 'u')).toBe('revoked');
    expect(view.check(newSessionId(clock.now() - 10), 'u')).toBe('ok');
  });

  it('applies broadcast entries, and local ones at once', async () => {
    await view.onModuleInit();
    const viaStore = newSessionId(clock.now());
    const local = newSessionId(clock.now());
    await store.add(session(viaStore), clock.now());
    view.apply(session(local));
    expect(view.check(viaStore, 'u')).toBe('revoked');
    expect(view.check(local, 'u')).toBe('revoked');
  });

  it('a user cut-off revokes sessions created before it only; a later cut-off wins, an earlier one never weakens it', async () => {
    await view.onModuleInit();
    const c = clock.now() - 60_000;
    const before = newSessionId(c - 1);
    const at = newSessionId(c);
    const between = newSessionId(c + 500);
    const after = newSessionId(c + 1_000);
    view.apply({ kind: 'user', userId: 'u', cutoff: c, expiresAt: clock.now() + 60_000 });
    expect([before, at, between, after].map((sid) => view.check(sid, 'u'))).toEqual(['revoked', 'ok', 'ok', 'ok']);
    expect(view.check(before, 'v')).toBe('ok');

    view.apply({ kind: 'user', userId: 'u', cutoff: c + 1_000, expiresAt: clock.now() + 60_000 });
    view.apply({ kind: 'user', userId: 'u', cutoff: c, expiresAt: clock.now() + 60_000 });
    expect([before, at, between, after].map((sid) => view.check(sid, 'u'))).toEqual(['revoked', 'revoked', 'revoked', 'ok']);
  });

  it('prune drops entries once they expire, not before; a later expiry of the same entry is kept', async () => {
    await view.onModuleInit();
    const sid = newSessionId(clock.now());
    view.apply(session(sid, 1_000));
    view.apply(session(sid, 5_000));
    view.apply({ kind: 'user', userId: 'u', cutoff: clock.now(), expiresAt: clock.now() + 1_000 });
    view.prune(clock.now() + 4_999);
    expect(view.size).toEqual({ sessions: 1, users: 0 });
    expect(view.check(sid, 'u')).toBe('revoked');
    view.prune(clock.now() + 5_000);
    expect(view.size).toEqual({ sessions: 0, users: 0 });
  });

  it('after a disconnect: trusted for revocationMaxStaleness, then "stale"; a successful resync renews the bound', async () => {
    await view.onModuleInit();
    const revoked = newSessionId(clock.now());
    view.apply(session(revoked));
    const live = newSessionId(clock.now());

    feed().onDisconnected();
    expect(view.isConnected).toBe(false);
    clock.t += MAX_STALENESS;
    expect(view.check(revoked, 'u')).toBe('revoked');
    expect(view.check(live, 'u')).toBe('ok');
    clock.t += 1;
    expect(view.check(revoked, 'u')).toBe('stale');
    expect(view.check(live, 'u')).toBe('stale');

    await view.resync();
    expect(view.isConnected).toBe(false); // still no feed: only a fresh bound
    expect(view.check(live, 'u')).toBe('ok');
    clock.t += MAX_STALENESS + 1;
    expect(view.check(live, 'u')).toBe('stale');
  });

  it('resync is single-flight', async () => {
    await view.onModuleInit();
    const d = deferred<RevocationEntry[]>();
    const snapshot = jest.spyOn(store, 'snapshot').mockReturnValue(d.promise);
    const p1 = view.resync();
    const p2 = view.resync();
    expect(p2).toBe(p1);
    expect(snapshot).toHaveBeenCalledTimes(1);
    d.resolve([]);
    await p1;
    void view.resync();
    expect(snapshot).toHaveBeenCalledTimes(2);
  });

  it('resync turns any store failure into AuthError STORE_UNAVAILABLE, and keeps an AuthError as it is', async () => {
    await view.onModuleInit();
    jest.spyOn(store, 'snapshot').mockRejectedValueOnce(new Error('ECONNREFUSED'));
    await expect(view.resync()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const own = new AuthError('STORE_UNAVAILABLE', { retryAfter: 7 });
    jest.spyOn(store, 'snapshot').mockRejectedValueOnce(own);
    await expect(view.resync()).rejects.toBe(own);
  });

  it('a start without the store leaves it "stale" (fail closed) until a resync succeeds', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(store, 'snapshot').mockRejectedValue(new Error('down'));
    await view.onModuleInit();
    await flush();
    expect(view.check(newSessionId(clock.now()), 'u')).toBe('stale');
    jest.spyOn(store, 'snapshot').mockResolvedValue([]);
    await view.resync();
    expect(view.check(newSessionId(clock.now()), 'u')).toBe('ok');
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  describe('reconnects', () => {
    beforeEach(async () => {
      await view.onModuleInit();
      await flush();
      feed().onDisconnected();
    });

    it('is authoritative again once the reload after the reconnect has completed', async () => {
      const d = deferred<RevocationEntry[]>();
      jest.spyOn(store, 'snapshot').mockReturnValueOnce(d.promise);
      const missed = newSessionId(clock.now());
      clock.t += MAX_STALENESS + 1;
      feed().onConnected();
      await flush();
      expect(view.isConnected).toBe(false);
      expect(view.check(missed, 'u')).toBe('stale');
      d.resolve([session(missed)]);
      await flush();
      expect(view.isConnected).toBe(true);
      expect(view.check(missed, 'u')).toBe('revoked');
      expect(view.check(newSessionId(clock.now()), 'u')).toBe('ok');
    });

    it('does not claim to be connected when the feed dropped again while the reload was running', async () => {
      const d = deferred<RevocationEntry[]>();
      jest.spyOn(store, 'snapshot').mockReturnValueOnce(d.promise);
      feed().onConnected();
      await flush();
      feed().onDisconnected();
      d.resolve([]);
      await flush();
      expect(view.isConnected).toBe(false);
      clock.t += MAX_STALENESS + 1;
      expect(view.check(newSessionId(clock.now()), 'u')).toBe('stale');
    });

    it('a reload that began before the reconnect is not enough: it loads again after it', async () => {
      const early = deferred<RevocationEntry[]>();
      const late = deferred<RevocationEntry[]>();
      const snapshot = jest.spyOn(store, 'snapshot').mockReturnValueOnce(early.promise).mockReturnValueOnce(late.promise);
      const guardReload = view.resync(); // the guard, while the feed is down
      feed().onConnected();
      const missed = newSessionId(clock.now());
      early.resolve([]);
      await guardReload;
      await flush();
      expect(view.isConnected).toBe(false);
      expect(snapshot).toHaveBeenCalledTimes(2);
      late.resolve([session(missed)]);
      await flush();
      expect(view.isConnected).toBe(true);
      expect(view.check(missed, 'u')).toBe('revoked');
    });

    it('when the reload after a reconnect fails (commands not back yet), it retries by itself', async () => {
      const snapshot = jest.spyOn(store, 'snapshot').mockRejectedValueOnce(new Error('not ready yet'));
      const missed = newSessionId(clock.now());
      await store.add(session(missed), clock.now());
      feed().onConnected();
      await flush();
      expect(view.isConnected).toBe(false);
      const deadline = Date.now() + 2_000;
      while (!view.isConnected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(view.isConnected).toBe(true);
      expect(snapshot).toHaveBeenCalledTimes(2);
      expect(view.check(missed, 'u')).toBe('revoked');
    });

    it('stops retrying once the feed is gone again', async () => {
      const snapshot = jest.spyOn(store, 'snapshot').mockRejectedValue(new Error('down'));
      feed().onConnected();
      await flush();
      feed().onDisconnected();
      await new Promise((r) => setTimeout(r, 250));
      expect(snapshot).toHaveBeenCalledTimes(1);
    });

    it('when the reload after a reconnect fails, a successful resync by the guard makes it authoritative', async () => {
      jest.spyOn(store, 'snapshot').mockRejectedValueOnce(new Error('not ready yet'));
      feed().onConnected();
      await flush();
      expect(view.isConnected).toBe(false);
      await view.resync();
      expect(view.isConnected).toBe(true);
      clock.t += MAX_STALENESS;
      expect(view.check(newSessionId(clock.now()), 'u')).toBe('ok');
    });
  });

  describe('heartbeat: an open socket proves nothing, answers do', () => {
    beforeEach(async () => {
      await view.onModuleInit();
      await flush();
      expect(view.isConnected).toBe(true);
    });

    it('a feed that stays open but never answers is "stale" once the budget has passed since the last proof', async () => {
      const t0 = clock.now();
      const live = newSessionId(t0);
      probe.mockReturnValue(new Promise<void>(() => undefined)); // a silent link
      clock.t = t0 + MAX_STALENESS / 2 - 1; // not yet quiet long enough to reload by itself
      view.heartbeat();
      await flush();
      clock.t = t0 + MAX_STALENESS;
      expect(view.check(live, 'u')).toBe('ok');
      clock.t += 1;
      expect(view.check(live, 'u')).toBe('stale');
      expect(view.isConnected).toBe(false); // readiness reports the feed down
      // The store still answers: confirming against it makes the view fresh again.
      await view.confirm();
      expect(view.check(live, 'u')).toBe('ok');
    });

    it('an answered heartbeat proves the view complete as of when it was sent, not when the answer came', async () => {
      const t0 = clock.now();
      const answer = deferred<void>();
      probe.mockReturnValueOnce(answer.promise);
      clock.t = t0 + 1_000;
      view.heartbeat();
      clock.t = t0 + 2_000;
      answer.resolve();
      await flush();
      clock.t = t0 + 1_000 + MAX_STALENESS;
      expect(view.check(newSessionId(t0), 'u')).toBe('ok');
      clock.t += 1;
      expect(view.check(newSessionId(t0), 'u')).toBe('stale');
    });

    it('one heartbeat at a time: no new probe while one is unanswered', async () => {
      const answer = deferred<void>();
      probe.mockReturnValueOnce(answer.promise);
      view.heartbeat();
      view.heartbeat();
      expect(probe).toHaveBeenCalledTimes(1);
      answer.resolve();
      await flush();
      view.heartbeat();
      expect(probe).toHaveBeenCalledTimes(2);
    });

    it('an answer that arrives after the feed went down proves nothing', async () => {
      const t0 = clock.now();
      const answer = deferred<void>();
      probe.mockReturnValueOnce(answer.promise);
      clock.t = t0 + 2_000;
      view.heartbeat();
      feed().onDisconnected();
      answer.resolve();
      await flush();
      clock.t = t0 + MAX_STALENESS + 1;
      expect(view.check(newSessionId(t0), 'u')).toBe('stale');
    });

    it('quiet for half the budget, the view reloads by itself: a revocation the feed never delivered is seen', async () => {
      const t0 = clock.now();
      probe.mockReturnValue(new Promise<void>(() => undefined));
      const missed = newSessionId(t0);
      const snapshot = jest.spyOn(store, 'snapshot').mockResolvedValue([session(missed)]);
      clock.t = t0 + MAX_STALENESS / 2 - 1;
      view.heartbeat();
      await flush();
      expect(snapshot).not.toHaveBeenCalled();
      clock.t += 1;
      view.heartbeat();
      await flush();
      expect(snapshot).toHaveBeenCalledTimes(1);
      expect(view.check(missed, 'u')).toBe('revoked');
      // Fresh as of that reload: no request has to wait for the store.
      clock.t += MAX_STALENESS;
      expect(view.check(newSessionId(t0), 'u')).toBe('ok');
    });

    it('a clock that goes back trusts nothing until the next proof', async () => {
      const t0 = clock.now();
      clock.t = t0 - 1;
      expect(view.check(newSessionId(t0 - 10), 'u')).toBe('stale');
      view.heartbeat();
      await flush();
      expect(view.check(newSessionId(t0 - 10), 'u')).toBe('ok');
    });

    it('a reload that gets no answer fails after a quarter of the budget; confirm() then fails at once until a proof, and a late answer still counts', async () => {
      jest.useFakeTimers({ doNotFake: ['Date', 'nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask'] });
      const t0 = clock.now();
      probe.mockReturnValue(new Promise<void>(() => undefined));
      const hung = deferred<RevocationEntry[]>();
      const snapshot = jest.spyOn(store, 'snapshot').mockReturnValue(hung.promise);
      clock.t = t0 + MAX_STALENESS + 1;
      const first = view.confirm();
      const settled = jest.fn();
      first.then(settled, settled);
      jest.advanceTimersByTime(MAX_STALENESS / 4 - 1);
      await flush();
      expect(settled).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      await expect(first).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });

      // Known unreachable: the next request is refused without waiting, and asks nothing.
      await expect(view.confirm()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(snapshot).toHaveBeenCalledTimes(1);
      // The heartbeat keeps trying meanwhile; requests do not wait for its attempt either.
      view.heartbeat();
      expect(snapshot).toHaveBeenCalledTimes(2);
      await expect(view.confirm()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });

      // The first load answers after all: complete as of when it began.
      hung.resolve([]);
      await flush();
      expect(view.check(newSessionId(t0), 'u')).toBe('ok');
      clock.t = t0 + 2 * MAX_STALENESS + 1;
      expect(view.check(newSessionId(t0), 'u')).toBe('ok');
      clock.t += 1;
      expect(view.check(newSessionId(t0), 'u')).toBe('stale');
    });
  });

  it('after shutdown it no longer listens to the store', async () => {
    await view.onModuleInit();
    await view.onApplicationShutdown();
    const sid = newSessionId(clock.now());
    await store.add(session(sid), clock.now());
    expect(view.size.sessions).toBe(0);
  });
});
