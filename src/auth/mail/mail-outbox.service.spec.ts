import type { AuthAudit } from '../observability/auth-audit.service';
import { MailOutbox, type OutboxPolicy, type PreparedMail } from './mail-outbox.service';
import type { MailMessage, MailSender } from './mail.port';
import { renderMail } from './mail.templates';

const POLICY: OutboxPolicy = { attempts: 3, retryDelaysMs: [20, 40], concurrency: 2, maxPending: 4 };

function message(to = 'ada@example.com'): MailMessage {
  return renderMail('password-reset', to, 'https://app.example.com/signin/reset?token=t', 1800);
}
const prepared = (to?: string): PreparedMail => ({ userId: 'user-1', message: message(to) });

/** A sender that fails its first `failures` calls, then records. */
function sender(failures = 0): MailSender & { sent: MailMessage[]; calls: number; closed: boolean } {
  return {
    sent: [],
    calls: 0,
    closed: false,
    async send(m) {
      this.calls++;
      if (this.calls <= failures) throw Object.assign(new Error('451 try later, ada@example.com'), { code: 'EENVELOPE', responseCode: 451 });
      this.sent.push(m);
    },
    close() {
      this.closed = true;
    },
  };
}

describe('MailOutbox', () => {
  const audit = { record: jest.fn() };
  beforeEach(() => audit.record.mockClear());
  const outbox = (s: MailSender, p = POLICY) => new MailOutbox(s, audit as unknown as AuthAudit, p);
  const failures = () => audit.record.mock.calls.filter(([event]) => event === 'mail.failed');

  it('enqueue returns before the job is even prepared; the message goes out in the background', async () => {
    const s = sender();
    const box = outbox(s);
    let prepared = false;
    box.enqueue('password-reset', async () => ((prepared = true), { userId: 'u', message: message() }));
    expect(prepared).toBe(false);
    await box.idle();
    expect(s.sent).toHaveLength(1);
  });

  it('a job that finds nothing to send sends nothing', async () => {
    const s = sender();
    const box = outbox(s);
    box.enqueue('password-reset', async () => null);
    await box.idle();
    expect(s.calls).toBe(0);
    expect(failures()).toHaveLength(0);
  });

  it('retries a refused delivery with back-off, up to the attempt limit', async () => {
    const s = sender(2);
    const box = outbox(s);
    const started = Date.now();
    box.enqueue('password-reset', async () => prepared());
    await box.idle();
    expect(s.calls).toBe(3);
    expect(s.sent).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(failures()).toHaveLength(0);
  });

  it('after the last attempt: mail.failed, with the kind, the user, the attempts and the reply code, never the address', async () => {
    const s = sender(10);
    const box = outbox(s);
    box.enqueue('password-reset', async () => prepared(), { requestId: 'req-1' });
    await box.idle();
    expect(s.calls).toBe(3);
    expect(failures()).toEqual([['mail.failed', { kind: 'password-reset', userId: 'user-1', attempts: 3, reason: 'EENVELOPE 451' }, { requestId: 'req-1' }]]);
    expect(JSON.stringify(audit.record.mock.calls)).not.toContain('ada@example.com');
  });

  it('a job that cannot be prepared (store down) is audited, not thrown', async () => {
    const box = outbox(sender());
    box.enqueue('email-verification', async () => {
      throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    });
    await box.idle();
    expect(failures()).toEqual([['mail.failed', { kind: 'email-verification', userId: undefined, attempts: 0, reason: 'ECONNREFUSED' }, {}]]);
  });

  it('runs at most `concurrency` jobs at once and holds at most `maxPending`; beyond, a job is dropped and audited', async () => {
    const s = sender();
    const box = outbox(s);
    let running = 0;
    let most = 0;
    const release: Array<() => void> = [];
    const job = async (): Promise<PreparedMail> => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => release.push(r));
      running--;
      return prepared();
    };
    for (let i = 0; i < 5; i++) box.enqueue('password-reset', job);
    expect(failures()).toEqual([['mail.failed', { kind: 'password-reset', reason: 'outbox full' }, {}]]);
    while (s.sent.length < 4) {
      await new Promise((r) => setImmediate(r));
      release.splice(0).forEach((r) => r());
    }
    await box.idle();
    expect(most).toBe(2);
    expect(s.sent).toHaveLength(4);
  });

  it('shutdown cuts a retry wait short (the message fails), drops the backlog and closes the sender', async () => {
    const s = sender(10);
    const box = outbox(s, { ...POLICY, retryDelaysMs: [60_000], concurrency: 1 });
    box.enqueue('password-reset', async () => prepared());
    box.enqueue('password-reset', async () => prepared());
    while (s.calls === 0) await new Promise((r) => setImmediate(r));
    const started = Date.now();
    await box.onApplicationShutdown();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(s.calls).toBe(1);
    expect(s.closed).toBe(true);
    expect(failures()).toEqual([['mail.failed', expect.objectContaining({ attempts: 1, reason: 'EENVELOPE 451' }), {}]]);
    box.enqueue('password-reset', async () => prepared());
    expect(failures().at(-1)).toEqual(['mail.failed', { kind: 'password-reset', reason: 'shutting down' }, {}]);
  });
});
