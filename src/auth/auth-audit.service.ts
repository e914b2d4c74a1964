import { Injectable, Logger } from '@nestjs/common';

export type AuditEvent =
  | 'login.success'
  | 'login.failure'
  | 'register'
  | 'refresh'
  | 'refresh.reuse_detected'
  | 'logout'
  | 'logout_all'
  | 'session.revoked'
  | 'browser.login'
  | 'csrf.rejected';

/**
 * Structured audit trail. One JSON object per event; never a password, token, secret or cookie
 * value. Fields are ids and outcomes only.
 */
@Injectable()
export class AuthAudit {
  private readonly logger = new Logger('Audit');

  record(event: AuditEvent, fields: { userId?: string; sid?: string; detail?: string } = {}): void {
    this.logger.log(JSON.stringify({ event, time: new Date().toISOString(), ...fields }));
  }
}
