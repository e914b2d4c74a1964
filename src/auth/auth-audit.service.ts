import { createHmac, hkdfSync } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import { AuthMetrics } from './auth-metrics.service';
import { SIGNING_KEYS } from './tokens/tokens.constants';
import type { SigningKeySet } from './tokens/signing-keys.loader';

/** Every audit event name. Closed: an operator alerts on these. 'csrf.failure' is emitted by the browser-session flow. */
export const AUDIT_EVENTS = [
  'login.success',
  'browser.login',
  'login.failure',
  'login.locked',
  'register',
  'refresh',
  'refresh.reuse_detected',
  'refresh.binding_mismatch',
  'logout',
  'logout_all',
  'session.revoked',
  'password.changed',
  'csrf.failure',
  'rate_limited',
  'reauth.required',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export interface AuditFields {
  readonly userId?: string;
  /** The public session id (never a refresh secret, cookie or token). */
  readonly sid?: string;
  /** The client address; logged only as a keyed, truncated hash. */
  readonly ip?: string;
  readonly reason?: string;
  readonly [extra: string]: string | number | boolean | undefined;
}

/** Control and format characters (and line/paragraph separators) become \uXXXX: no forged log lines. */
export function escapeControl(s: string): string {
  return s.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Structured audit trail through pino (nestjs-pino's logger, so a line logged inside a request
 * carries its `reqId`): one JSON object per event with `time` (ISO 8601 UTC), `audit: true`,
 * `event` and ids. Never a password, token, refresh secret, cookie or email; the client address
 * only as a keyed hash (`ipHash`, 12 base64url characters, same address → same hash on this
 * deployment). Every string is control-character escaped and bounded. Each event also counts in
 * the `auth_events_total` metric.
 */
@Injectable()
export class AuthAudit {
  private readonly ipKey: Buffer;
  private readonly fallback: Logger | null;

  constructor(
    @Inject(SIGNING_KEYS) keys: SigningKeySet,
    private readonly metrics: AuthMetrics,
    @Optional() private readonly pinoLogger?: PinoLogger,
  ) {
    this.ipKey = Buffer.from(hkdfSync('sha256', keys.macSeed, 'auth-domain', 'audit-ip/v1', 32));
    // Without nestjs-pino's LoggerModule (a host app that does not use it), a plain pino logger.
    this.fallback = pinoLogger ? null : pino({ timestamp: pino.stdTimeFunctions.isoTime });
  }

  record(event: AuditEvent, fields: AuditFields = {}): void {
    this.metrics.event(event);
    const line: Record<string, string | number | boolean> = { audit: true, event };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      if (k === 'ip') line.ipHash = this.hashIp(String(v));
      else line[k] = typeof v === 'string' ? escapeControl(v.slice(0, 200)) : v;
    }
    // The trail does not depend on LOG_LEVEL: an operator who quiets the logs to `warn` still gets
    // every audit event (at info level, on the same stream). Only `silent` silences it.
    const logger = this.pinoLogger ? this.pinoLogger.logger : this.fallback;
    if (!logger) return;
    if (logger.isLevelEnabled('info')) logger.info(line, event);
    else if (logger.level !== 'silent') logger.child({}, { level: 'info' }).info(line, event);
  }

  hashIp(ip: string): string {
    return createHmac('sha256', this.ipKey).update(ip).digest('base64url').slice(0, 12);
  }
}
