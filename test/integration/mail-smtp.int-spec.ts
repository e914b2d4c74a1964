import { Logger } from '@nestjs/common';
import { getFreePort } from '../support/free-port';
import { startSmtp, type SmtpHarness } from '../support/smtp-server';
import { MailOutbox } from '../../src/auth/mail/mail-outbox.service';
import { LogMailSender } from '../../src/auth/mail/mail.log-adapter';
import { SmtpMailSender, smtpEndpointOf } from '../../src/auth/mail/mail.smtp-adapter';
import { renderMail } from '../../src/auth/mail/mail.templates';
import type { AuthAudit } from '../../src/auth/observability/auth-audit.service';

/** The SMTP adapter and the outbox against a real SMTP server on loopback (npm's smtp-server). */
const LINK = 'https://app.example.com/signin/reset?token=dXNlcg.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const message = (to: string) => renderMail('password-reset', to, LINK, 1800);

describe('SmtpMailSender', () => {
  let plain: SmtpHarness;
  let tls: SmtpHarness;
  beforeAll(async () => {
    [plain, tls] = await Promise.all([startSmtp(), startSmtp({ secure: true })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), tls?.stop()]);
  });

  it.each([
    ['smtp://', () => plain],
    ['smtps:// (TLS from the first byte)', () => tls],
  ])('delivers over %s: envelope, From, subject, text and HTML with the link', async (_how, server) => {
    const sender = new SmtpMailSender(server().url, 'Accounts <accounts@example.com>');
    try {
      await sender.send(message('ada@example.com'));
    } finally {
      sender.close();
    }
    const got = await server().waitFor((m) => m.to.includes('ada@example.com'));
    expect(got).toMatchObject({ from: 'accounts@example.com', subject: 'Reset your password', link: LINK });
    expect(got.html).toContain(`href="${LINK}"`);
  });

  it('a refusal rejects the send', async () => {
    const sender = new SmtpMailSender(plain.url, 'accounts@example.com');
    plain.refuse(1, 550);
    try {
      await expect(sender.send(message('bob@example.com'))).rejects.toMatchObject({ responseCode: 550 });
    } finally {
      sender.close();
    }
  });

  it('names its endpoint without credentials', () => {
    expect(smtpEndpointOf('smtps://user:s3cret@smtp.example.com')).toBe('smtps://smtp.example.com:465');
    expect(smtpEndpointOf('smtp://user:s3cret@relay:2525')).toBe('smtp://relay:2525');
  });
});

describe('MailOutbox over SMTP', () => {
  let smtp: SmtpHarness;
  const audit = { record: jest.fn() };
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp?.stop());
  beforeEach(() => audit.record.mockClear());

  const outbox = (url: string) =>
    new MailOutbox(new SmtpMailSender(url, 'accounts@example.com'), audit as unknown as AuthAudit, {
      attempts: 3,
      retryDelaysMs: [50, 100],
      concurrency: 2,
      maxPending: 10,
    });

  it('a temporarily refused message is retried and delivered', async () => {
    const box = outbox(smtp.url);
    smtp.refuse(2, 451);
    const before = smtp.attempts;
    box.enqueue('password-reset', async () => ({ userId: 'u-1', message: message('carol@example.com') }));
    await box.idle();
    await box.onApplicationShutdown();
    expect(smtp.attempts - before).toBe(3);
    expect(smtp.to('carol@example.com')).toHaveLength(1);
    expect(audit.record).not.toHaveBeenCalled();
  });

  it('a relay that stays down: mail.failed after 3 attempts, nothing of the address or link in the audit', async () => {
    const box = outbox(`smtp://127.0.0.1:${await getFreePort()}`);
    box.enqueue('password-reset', async () => ({ userId: 'u-2', message: message('dave@example.com') }), { requestId: 'r-9' });
    await box.idle();
    await box.onApplicationShutdown();
    expect(audit.record).toHaveBeenCalledTimes(1);
    expect(audit.record).toHaveBeenCalledWith('mail.failed', { kind: 'password-reset', userId: 'u-2', attempts: 3, reason: 'ESOCKET' }, { requestId: 'r-9' });
    expect(JSON.stringify(audit.record.mock.calls)).not.toMatch(/dave|token=/);
  });
});

describe('LogMailSender (development)', () => {
  it('writes the recipient, the subject and the link', async () => {
    const logger = new Logger('Mail');
    const log = jest.spyOn(logger, 'log').mockImplementation(() => undefined);
    await new LogMailSender(logger).send(message('erin@example.com'));
    expect(log).toHaveBeenCalledWith(`to erin@example.com: "Reset your password" ${LINK}`);
  });
});
