import { Logger } from '@nestjs/common';
import type { MailMessage, MailSender } from './mail.port';

/**
 * Development only (no MAIL_URL, not production): each message goes to the log, recipient,
 * subject and link, so `npm start` alone completes every flow. Production refuses to boot on it.
 */
export class LogMailSender implements MailSender {
  constructor(private readonly logger = new Logger('Mail')) {}

  async send(m: MailMessage): Promise<void> {
    this.logger.log(`to ${m.to}: "${m.subject}" ${m.link}`);
  }
}
