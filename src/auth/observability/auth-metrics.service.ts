import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SESSION_STORE, type SessionStore } from '../sessions/session-store.port';
import { RevocationView } from '../revocation/revocation-view.service';

/**
 * Prometheus metrics of the auth context, in its own registry (served at GET /metrics):
 *   auth_events_total{event}                 one per audit event
 *   auth_login_duration_seconds{outcome}     login latency (includes the argon2 verification)
 *   auth_refresh_duration_seconds{outcome}   refresh latency
 *   auth_sessions                            session store size (see SessionStore.approximateSize)
 *   auth_revocations_local{kind}             entries in this instance's revocation view
 * Gauges are computed when scraped, never on a request path.
 */
@Injectable()
export class AuthMetrics {
  readonly registry = new Registry();
  private readonly events: Counter<'event'>;
  readonly loginDuration: Histogram<'outcome'>;
  readonly refreshDuration: Histogram<'outcome'>;

  constructor(
    @Inject(SESSION_STORE) sessions: SessionStore,
    revocations: RevocationView,
  ) {
    this.events = new Counter({ name: 'auth_events_total', help: 'Audit events by name', labelNames: ['event'], registers: [this.registry] });
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
    this.loginDuration = new Histogram({
      name: 'auth_login_duration_seconds',
      help: 'POST /auth/login latency in the service, by outcome',
      labelNames: ['outcome'],
      buckets,
      registers: [this.registry],
    });
    this.refreshDuration = new Histogram({
      name: 'auth_refresh_duration_seconds',
      help: 'POST /auth/refresh latency in the service, by outcome',
      labelNames: ['outcome'],
      buckets,
      registers: [this.registry],
    });
    new Gauge({
      name: 'auth_sessions',
      help: 'Session store size: exact in memory; with Redis, keys in the Redis database (INFO keyspace, sampled at most every 15 s), an upper bound',
      registers: [this.registry],
      async collect() {
        const n = await sessions.approximateSize().catch(() => null);
        if (n !== null) this.set(n);
      },
    });
    new Gauge({
      name: 'auth_revocations_local',
      help: 'Entries in this instance\u2019s local revocation view',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        const s = revocations.size;
        this.set({ kind: 'session' }, s.sessions);
        this.set({ kind: 'user' }, s.users);
      },
    });
  }

  event(name: string): void {
    let child = this.eventCounters.get(name);
    if (!child) this.eventCounters.set(name, (child = this.events.labels({ event: name })));
    child.inc();
  }

  /** Starts a latency measurement; call the result with the outcome. */
  timer(h: Histogram<'outcome'>): (outcome: string) => void {
    const start = process.hrtime.bigint();
    return (outcome) => this.outcomeOf(h, outcome).observe(Number(process.hrtime.bigint() - start) / 1e9);
  }

  /*
   * Label-bound children, made once per label value: prom-client otherwise hashes the label object
   * on every observation. Event names and outcomes are closed sets (audit events, error codes), so
   * these maps stay small.
   */
  private readonly eventCounters = new Map<string, { inc(): void }>();
  private readonly outcomes = new Map<Histogram<'outcome'>, Map<string, { observe(v: number): void }>>();

  private outcomeOf(h: Histogram<'outcome'>, outcome: string): { observe(v: number): void } {
    let byOutcome = this.outcomes.get(h);
    if (!byOutcome) this.outcomes.set(h, (byOutcome = new Map()));
    let child = byOutcome.get(outcome);
    if (!child) byOutcome.set(outcome, (child = h.labels({ outcome })));
    return child;
  }
}
