import { Logger, type Provider } from '@nestjs/common';
import type Redis from 'ioredis';
import { AUTH_MODULE_OPTIONS } from '../auth.module-definition';
import { AUTH_SETTINGS, type AuthModuleOptions, type AuthSettings } from '../common/auth-settings';
import { MailOutbox } from '../mail/mail-outbox.service';
import { LogMailSender } from '../mail/mail.log-adapter';
import { MAIL_SENDER, type MailSender } from '../mail/mail.port';
import { SmtpMailSender, smtpEndpointOf } from '../mail/mail.smtp-adapter';
import { REDIS_CONNECTION } from '../redis/redis-connection.factory';
import { AccountRecoveryService } from './account-recovery.service';
import { MemoryRecoveryTokenStore } from './recovery-token-store.memory-adapter';
import { RECOVERY_TOKEN_STORE } from './recovery-token-store.port';
import { RedisRecoveryTokenStore } from './recovery-token-store.redis-adapter';

const logger = new Logger('AuthModule');

/**
 * The mail transport: the host's own, else SMTP from `mail.url`, else (outside production) the
 * log. Production also needs a public origin: mailed links must never follow a request's Host.
 */
export function mailSenderFor(options: AuthModuleOptions, s: AuthSettings, production = process.env.NODE_ENV === 'production'): MailSender {
  if (production && s.browser.publicOrigins.length === 0) {
    throw new Error('AuthModule: browser.publicOrigins (AUTH_PUBLIC_ORIGIN) is required in production: mailed links point there');
  }
  if (options.mailSender) return options.mailSender;
  if (s.mail.url) {
    logger.log(`mail: SMTP via ${smtpEndpointOf(s.mail.url)}, from ${s.mail.from}`);
    return new SmtpMailSender(s.mail.url, s.mail.from);
  }
  if (production) throw new Error('AuthModule: mail.url (MAIL_URL) or a mailSender is required in production');
  // The development set-up, not a fault: production cannot get here.
  logger.log('no MAIL_URL: verification and reset mails are written to the log (development only)');
  return new LogMailSender();
}

/** Email verification and password reset: the mail port, the outbox, the token store, the service. */
export const recoveryProviders: Provider[] = [
  { provide: MAIL_SENDER, inject: [AUTH_MODULE_OPTIONS, AUTH_SETTINGS], useFactory: (o: AuthModuleOptions, s: AuthSettings) => mailSenderFor(o, s) },
  MailOutbox,
  {
    provide: RECOVERY_TOKEN_STORE,
    inject: [REDIS_CONNECTION],
    useFactory: (redis: Redis | null) => (redis ? new RedisRecoveryTokenStore(redis) : new MemoryRecoveryTokenStore()),
  },
  AccountRecoveryService,
];
