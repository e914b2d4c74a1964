import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { AuthError } from '../errors/auth-error.model';
import { AuthAudit, type AuditSource } from '../observability/auth-audit.service';
import { MAIL_SENDER, type MailMessage, type MailSender } from './mail.port';
import type { MailKind } from './mail.templates';

/** What a job hands the outbox once prepared: the message, and whose it is (for the audit trail). */
export interface PreparedMail {
  readonly userId: string;
  readonly message: MailMessage;
}

export interface OutboxPolicy {
  /** Delivery attempts per message, the first included. */
  readonly attempts: number;
  /** Wait before the 2nd, 3rd … attempt, ms (the last value repeats). */
  readonly retryDelaysMs: readonly number[];
  /** Jobs running at once. */
  readonly concurrency: number;
  /** Jobs waiting or running; past it a new one is dropped (and audited). */
  readonly maxPending: number;
}

export const OUTBOX_POLICY = Symbol('OUTBOX_POLICY');
export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = Object.freeze({ attempts: 3, retryDelaysMs: [2_000, 10_000], concurrency: 4, maxPending: 1_000 });

interface Job {
  readonly kind: MailKind;
  readonly prepare: () => Promise<PreparedMail | null>;
  readonly from: AuditSource;
}

/**
 * The in-process queue between a request and the mail it causes. `enqueue` returns at once: the
 * HTTP answer never waits for a lookup, a token or a relay, and nothing about a mail's fate
 * reaches the client. A job is prepared once (account lookup, token issue: it may find nothing to
 * send) and its message delivered with bounded retries and back-off; a message still undelivered
 * after the last attempt is audited as `mail.failed` (never with the address or the link).
 * Bounded: a few jobs at once, a capped backlog. Jobs live in memory only: a restart loses the
 * backlog (the user asks again).
 */
@Injectable()
export class MailOutbox implements OnApplicationShutdown {
  private readonly logger = new Logger('MailOutbox');
  private readonly waiting: Job[] = [];
  private running = 0;
  private closed = false;
  private pumpScheduled = false;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    @Inject(MAIL_SENDER) private readonly sender: MailSender,
    private readonly audit: AuthAudit,
    @Optional() @Inject(OUTBOX_POLICY) private readonly policy: OutboxPolicy = DEFAULT_OUTBOX_POLICY,
  ) {}

  enqueue(kind: MailKind, prepare: () => Promise<PreparedMail | null>, from: AuditSource = {}): void {
    if (this.closed || this.waiting.length + this.running >= this.policy.maxPending) {
      this.audit.record('mail.failed', { kind, reason: this.closed ? 'shutting down' : 'outbox full' }, from);
      return;
    }
    this.waiting.push({ kind, prepare, from });
    // After the current I/O phase: the request that enqueued has answered before any of the job runs.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /** Resolves once no job is waiting or running (tests, shutdown). */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking jobs, cuts retry waits short (their message fails), drops the backlog. */
  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const dropped = this.waiting.splice(0);
    if (dropped.length > 0) this.logger.warn(`${dropped.length} queued mail job(s) dropped at shutdown`);
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.wake();
    }
    await this.idle();
    this.sender.close?.();
  }

  private pump(): void {
    while (this.running < this.policy.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift() as Job;
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    let prepared: PreparedMail | null;
    try {
      prepared = await job.prepare();
    } catch (e) {
      this.failed(job, undefined, e, 0);
      return;
    }
    if (!prepared) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sender.send(prepared.message);
        return;
      } catch (e) {
        if (attempt < this.policy.attempts) {
          const delays = this.policy.retryDelaysMs;
          await this.sleep(delays[Math.min(attempt - 1, delays.length - 1)] ?? 0);
          if (!this.closed) continue;
        }
        this.failed(job, prepared.userId, e, attempt);
        return;
      }
    }
  }

  /** The audit line is the record (the audit trail is where an operator alerts on events). */
  private failed(job: Job, userId: string | undefined, e: unknown, attempts: number): void {
    this.audit.record('mail.failed', { kind: job.kind, userId, attempts, reason: reasonOf(e) }, job.from);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        wake: () => {
          this.sleepers.delete(sleeper);
          resolve();
        },
        timer: setTimeout(() => sleeper.wake(), ms),
      };
      // A retry wait never keeps the process alive on its own.
      sleeper.timer.unref();
      this.sleepers.add(sleeper);
    });
  }
}

/**
 * A short, address-free reason: an AuthError's code, else nodemailer's error code and the
 * server's reply code (the reply text may quote the recipient).
 */
function reasonOf(e: unknown): string {
  if (e instanceof AuthError) return e.code;
  const err = e as { code?: unknown; responseCode?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : 'error';
  return typeof err?.responseCode === 'number' ? `${code} ${err.responseCode}` : code;
}
