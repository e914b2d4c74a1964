import type { INestApplication } from '@nestjs/common';
import { MailOutbox } from '../../src/auth/mail/mail-outbox.service';

/**
 * Resolves once the app's mail outbox has nothing waiting or running: every mail the requests so
 * far caused has been sent, given up, or found to have nothing to send. What lets a suite say "no
 * mail was sent" without sleeping.
 */
export function mailSettled(app: INestApplication): Promise<void> {
  return app.get(MailOutbox).idle();
}
