import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AuthError, storeUnavailable } from '../errors/auth-error.model';
import { Clock, CLOCK } from '../common/clock.port';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import { sessionCreatedAt } from '../tokens/session-id.codec';
import { REVOCATION_STORE, RevocationEntry, RevocationFeed, RevocationStore } from './revocation-store.port';

export type RevocationCheck = 'ok' | 'revoked' | 'stale';

/**
 * This instance's local copy of the revocation list, kept in sync by the store's broadcast and
 * reloaded in full at start and after every reconnect. The access path asks it synchronously.
 *
 * Staleness contract: the view is trusted only while it is known complete as of at most
 * `revocationMaxStaleness` ms ago. An open socket proves nothing (a partition leaves it open and
 * silent), so completeness is proven by answers:
 * - a heartbeat (a PING on the feed's own connection, four per budget) that is answered proves
 *   that every entry broadcast before it was sent has arrived;
 * - a reload from the store proves completeness as of the moment it began.
 * Past the budget, `check` answers 'stale' and the guard calls `confirm()`: a reload (single
 * flight, given up after a quarter of the budget) or STORE_UNAVAILABLE, so a 503. Once the feed has
 * been quiet for half the budget the view reloads by itself: a lost feed with a reachable store
 * costs no request a wait, and an unreachable store is known before the budget runs out.
 * It never silently fails open.
 */
@Injectable()
export class RevocationView implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RevocationView');
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<string, { cutoff: number; expiresAt: number }>();
  /** The feed is up and a reload begun since it came up has completed: its heartbeats count. */
  private connected = false;
  /** Whether the broadcast feed is up, and which (re)connect of it this is. */
  private feedUp = false;
  private feedEpoch = 0;
  /** The view is known complete as of this instant (-Infinity: never loaded). */
  private freshAt = -Infinity;
  /** When the feed last proved itself (an answered heartbeat, or the reload that made it count). */
  private feedHeardAt = -Infinity;
  /** The last reload failed and nothing has proven the view complete since. */
  private reloadFailed = false;
  private inflight: Promise<void> | null = null;
  private feed: RevocationFeed | null = null;
  private probing = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @Inject(REVOCATION_STORE) private readonly store: RevocationStore,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** How often the feed is probed: four heartbeats per staleness budget (25 ms to 1 s). */
  get heartbeatMs(): number {
    return Math.min(1000, Math.max(25, Math.floor(this.options.revocationMaxStaleness / 4)));
  }

  async onModuleInit(): Promise<void> {
    this.feed = await this.store.subscribe({
      onEntry: (e) => this.apply(e),
      // Authoritative again only once a reload that began after this (re)connect has completed
      // while the feed is still up (see resync). One already under way began before: wait for it.
      // The command connection may come back after the feed: retry while this feed lasts.
      onConnected: () => {
        this.feedUp = true;
        const epoch = ++this.feedEpoch;
        const reload = (delayMs: number): void => {
          if (!this.feedUp || epoch !== this.feedEpoch) return;
          (this.inflight ?? Promise.resolve())
            .catch(() => undefined)
            .then(() => this.resync())
            .catch(() => setTimeout(() => reload(Math.min(delayMs * 2, 2000)), delayMs).unref());
        };
        reload(100);
      },
      onDisconnected: () => {
        this.feedUp = false;
        this.connected = false;
      },
    });
    await this.resync().catch(() => this.logger.warn('revocation list not loaded at start; the guard will retry'));
    this.timers = [setInterval(() => this.prune(), 30_000), setInterval(() => this.heartbeat(), this.heartbeatMs)];
    for (const t of this.timers) t.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.feedUp = false;
    await this.feed?.close();
  }

  /** Hot path: a clock reading and two map lookups. */
  check(sid: string, userId: string): RevocationCheck {
    const age = this.clock.now() - this.freshAt;
    // Negative: the clock went back. Nothing is trusted until the next heartbeat or reload.
    if (!(age >= 0 && age <= this.options.revocationMaxStaleness)) return 'stale';
    if (this.sessions.has(sid)) return 'revoked';
    const u = this.users.get(userId);
    if (u !== undefined && sessionCreatedAt(sid) < u.cutoff) return 'revoked';
    return 'ok';
  }

  /**
   * What the guard calls for a 'stale' answer: fails at once while the last reload failed and
   * nothing has proven the view complete since (the heartbeat keeps retrying meanwhile: a request
   * does not wait for a store that is known not to answer); else reloads, or joins the reload
   * under way.
   */
  confirm(): Promise<void> {
    if (this.reloadFailed) return Promise.reject(storeUnavailable());
    return this.resync();
  }

  /**
   * Reloads the whole list from the store; concurrent callers share one load. Given up (as
   * STORE_UNAVAILABLE) after a quarter of the staleness budget; a load that completes later
   * still counts.
   */
  resync(): Promise<void> {
    if (!this.inflight) {
      const startedAt = this.clock.now();
      const epoch = this.feedUp ? this.feedEpoch : -1;
      const load = this.store.snapshot(startedAt).then((entries) => {
        for (const e of entries) this.apply(e);
        this.markFresh(startedAt);
        // Complete and fed since before this load began: authoritative.
        if (this.feedUp && epoch === this.feedEpoch && !this.connected) {
          this.connected = true;
          this.feedHeardAt = Math.max(this.feedHeardAt, startedAt);
        }
      });
      this.inflight = withDeadline(load, Math.max(25, this.options.revocationMaxStaleness / 4))
        .catch((e: unknown) => {
          this.reloadFailed = true;
          throw e instanceof AuthError ? e : storeUnavailable(e);
        })
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }

  /**
   * One heartbeat (run every `heartbeatMs`): probes the feed, one probe at a time; an answer
   * proves the view complete as of when the probe was sent. A feed quiet for half the budget
   * (silent, down or not yet counted) makes the view reload from the store by itself: given up
   * after a quarter of the budget, that reload has failed, or the view is fresh again, before
   * the budget runs out.
   */
  heartbeat(): void {
    const feed = this.feed;
    if (feed && this.connected && !this.probing) {
      const epoch = this.feedEpoch;
      const sentAt = this.clock.now();
      this.probing = true;
      feed
        .probe()
        .then(
          () => {
            if (!this.connected || epoch !== this.feedEpoch) return;
            this.feedHeardAt = Math.max(this.feedHeardAt, sentAt);
            this.markFresh(sentAt);
          },
          () => undefined, // unanswered: freshness stops advancing (the feed replaces its connection)
        )
        .finally(() => {
          this.probing = false;
        });
    }
    if (this.inflight === null && this.clock.now() - this.freshAt >= this.options.revocationMaxStaleness / 2) {
      this.resync().catch(() => undefined);
    }
  }

  /** Records locally first, so this instance is consistent even before the broadcast returns. */
  apply(e: RevocationEntry): void {
    if (e.kind === 'session') {
      this.sessions.set(e.sid, Math.max(e.expiresAt, this.sessions.get(e.sid) ?? 0));
    } else {
      const cur = this.users.get(e.userId);
      if (!cur || cur.cutoff < e.cutoff) this.users.set(e.userId, { cutoff: e.cutoff, expiresAt: e.expiresAt });
      else if (cur.expiresAt < e.expiresAt) cur.expiresAt = e.expiresAt;
    }
  }

  get size(): { sessions: number; users: number } {
    return { sessions: this.sessions.size, users: this.users.size };
  }

  /** The feed is up and has answered within the staleness budget. */
  get isConnected(): boolean {
    return this.connected && this.clock.now() - this.feedHeardAt <= this.options.revocationMaxStaleness;
  }

  /** Entries outlive every token they could affect by at most the prune interval. */
  prune(now = this.clock.now()): void {
    for (const [sid, exp] of this.sessions) if (exp <= now) this.sessions.delete(sid);
    for (const [uid, u] of this.users) if (u.expiresAt <= now) this.users.delete(uid);
  }

  private markFresh(asOf: number): void {
    // Later proofs only; unless the clock went back, and the old proof lies in its future.
    if (asOf > this.freshAt || this.clock.now() < this.freshAt) this.freshAt = asOf;
    this.reloadFailed = false;
  }
}

/** `p`, or STORE_UNAVAILABLE once `ms` have passed (`p` itself goes on). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(storeUnavailable(new Error(`no answer within ${ms} ms`))), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
