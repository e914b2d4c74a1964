import { Inject, Injectable } from '@nestjs/common';
import { REVOCATION_STORE, RevocationStore } from '../revocation/revocation-store.port';
import { RevocationView } from '../revocation/revocation-view.service';
import { SESSION_STORE, SessionStore } from '../sessions/session-store.port';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, 'up' | 'down'>;
}

/** Whether auth can serve: its stores answer and the revocation feed is live. */
@Injectable()
export class AuthReadiness {
  constructor(
    @Inject(SESSION_STORE) private readonly sessions: SessionStore,
    @Inject(REVOCATION_STORE) private readonly revocations: RevocationStore,
    private readonly view: RevocationView,
  ) {}

  async check(): Promise<ReadinessReport> {
    const probe = (p: Promise<void>) => p.then(() => 'up' as const, () => 'down' as const);
    const checks = {
      sessionStore: await probe(this.sessions.ping()),
      revocationStore: await probe(this.revocations.ping()),
      revocationFeed: this.view.isConnected ? ('up' as const) : ('down' as const),
    };
    return { ready: Object.values(checks).every((c) => c === 'up'), checks };
  }
}
