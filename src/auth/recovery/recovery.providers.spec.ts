import { Logger } from '@nestjs/common';
import { resolveAuthSettings } from '../common/auth-settings';
import { LogMailSender } from '../mail/mail.log-adapter';
import type { MailSender } from '../mail/mail.port';
import { SmtpMailSender } from '../mail/mail.smtp-adapter';
import { mailSenderFor } from './recovery.providers';

describe('mailSenderFor: the mail transport the module uses', () => {
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  const origins = { browser: { publicOrigins: ['https://app.example.com'] } };
  const host: MailSender = { send: async () => undefined };

  it('development without a URL: the log', () => {
    expect(mailSenderFor({}, resolveAuthSettings({}), false)).toBeInstanceOf(LogMailSender);
  });

  it('a URL: SMTP; the host\u2019s own sender wins over both', () => {
    const smtp = mailSenderFor({}, resolveAuthSettings({ mail: { url: 'smtp://127.0.0.1:2525' } }), false);
    expect(smtp).toBeInstanceOf(SmtpMailSender);
    (smtp as SmtpMailSender).close();
    expect(mailSenderFor({ mailSender: host }, resolveAuthSettings({ ...origins, mail: { url: 'smtp://127.0.0.1:2525' } }), true)).toBe(host);
  });

  it('production refuses the log, and links without a public origin', () => {
    expect(() => mailSenderFor({}, resolveAuthSettings(origins), true)).toThrow(/MAIL_URL/);
    expect(() => mailSenderFor({ mailSender: host }, resolveAuthSettings({}), true)).toThrow(/AUTH_PUBLIC_ORIGIN/);
  });

  it('the default From is no-reply at the public origin\u2019s host', () => {
    expect(resolveAuthSettings(origins).mail.from).toBe('no-reply@app.example.com');
    expect(resolveAuthSettings({}).mail.from).toBe('no-reply@localhost');
    expect(resolveAuthSettings({ ...origins, mail: { from: 'Ops <ops@example.com>' } }).mail.from).toBe('Ops <ops@example.com>');
  });
});
