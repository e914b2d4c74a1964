import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AuthError, storeUnavailable } from '../errors/auth-error.model';
import { Clock, CLOCK } from '../common/clock.port';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import { sessionCreatedAt } from '../tokens/session-id.codec';
import { REVOCATION_STORE, RevocationEntry, RevocationStore } from './revocation-store.port';

export type RevocationCheck = 'ok' | 'revoked' | 'stale';

/**
 * This instance's local copy of the revocation list, kept in sync by the store's broadcast and
 * reloaded in full at start and after every reconnect. The access path asks it synchronously.
 *
 * Staleness contract: while the feed is connected the view is authoritative. Once disconnected,
 * it is trusted for `revocationMaxStaleness` ms; past that, the guard must call `resync()`, which
 * reloads from the store (single flight) or throws STORE_UNAVAILABLE: the guard then answers 503.
 * It never silently fails open.
 */
@Injectable()
export class RevocationView implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RevocationView');
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<string, { cutoff: number; expiresAt: number }>();
  private connected = false;
  /** Whether the broadcast feed is up, and which (re)connect of it this is. */
  private feedUp = false;
  private feedEpoch = 0;
  /** When the view was last known complete (connected, or a successful reload). */
  private syncedAt = -Infinity;
  private inflight: Promise<void> | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(REVOCATION_STORE) private readonly store: RevocationStore,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    this.unsubscribe = await this.store.subscribe({
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
        if (this.connected) this.syncedAt = this.clock.now();
        this.connected = false;
      },
    });
    await this.resync().catch(() => this.logger.warn('revocation list not loaded at start; the guard will retry'));
    this.pruneTimer = setInterval(() => this.prune(), 30_000);
    this.pruneTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.feedUp = false;
    await this.unsubscribe?.();
  }

  /** Hot path: two map lookups. */
  check(sid: string, userId: string): RevocationCheck {
    if (!this.connected || this.loading) {
      if (this.clock.now() - this.syncedAt > this.options.revocationMaxStaleness) return 'stale';
    }
    if (this.sessions.has(sid)) return 'revoked';
    const u = this.users.get(userId);
    if (u !== undefined && sessionCreatedAt(sid) < u.cutoff) return 'revoked';
    return 'ok';
  }

  /** Reloads the whole list from the store; concurrent callers share one load. */
  resync(): Promise<void> {
    if (!this.inflight) {
      const startedAt = this.clock.now();
      const epoch = this.feedUp ? this.feedEpoch : -1;
      this.inflight = this.store
        .snapshot(startedAt)
        .then((entries) => {
          for (const e of entries) this.apply(e);
          this.syncedAt = startedAt;
          // Complete and fed since before this load began: authoritative.
          if (this.feedUp && epoch === this.feedEpoch) this.connected = true;
        })
        .catch((e: unknown) => {
          throw e instanceof AuthError ? e : storeUnavailable(e);
        })
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
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

  get isConnected(): boolean {
    return this.connected;
  }

  /** Entries outlive every token they could affect by at most the prune interval. */
  prune(now = this.clock.now()): void {
    for (const [sid, exp] of this.sessions) if (exp <= now) this.sessions.delete(sid);
    for (const [uid, u] of this.users) if (u.expiresAt <= now) this.users.delete(uid);
  }

  private get loading(): boolean {
    return this.syncedAt === -Infinity;
  }
}
