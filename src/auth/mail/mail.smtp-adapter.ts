import { createTransport } from 'nodemailer';
import type { MailMessage, MailSender } from './mail.port';

/** Bounded waits: a relay that hangs costs a retry, not a connection held for minutes (nodemailer's defaults). */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/**
 * SMTP through nodemailer, from MAIL_URL: `smtp://` (STARTTLS when the server offers it) or
 * `smtps://` (TLS from the start), credentials and options in the URL as nodemailer reads them.
 * A pooled transport: a burst of messages shares a few connections.
 */
export class SmtpMailSender implements MailSender {
  private readonly transport;

  constructor(url: string, from: string) {
    this.transport = createTransport({ url, pool: true, maxConnections: 2, ...TIMEOUTS }, { from });
  }

  async send(m: MailMessage): Promise<void> {
    await this.transport.sendMail({ to: m.to, subject: m.subject, text: m.text, html: m.html });
  }

  close(): void {
    this.transport.close();
  }
}

/** `host:port` of an SMTP URL, for a log line (never its credentials). */
export function smtpEndpointOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === 'smtps:' ? '465' : '587')}`;
}
