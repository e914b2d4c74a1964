/**
 * The mail port: how auth sends its messages (verification and password-reset links). An SMTP
 * adapter in production (MAIL_URL), a log adapter in development; the host may hand in its own
 * (AuthModuleOptions.mailSender). Senders are called by MailOutbox only, off the request path.
 */
export const MAIL_SENDER = Symbol('MAIL_SENDER');

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** The link the message carries (what the development adapter writes to the log). */
  readonly link: string;
}

export interface MailSender {
  /** Resolves once the next hop accepted the message; rejects otherwise (the outbox retries). */
  send(message: MailMessage): Promise<void>;
  /** Releases connections at shutdown. */
  close?(): void;
}
