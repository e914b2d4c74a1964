import { createHmac } from 'node:crypto';
import { Inject, Injectable, Optional, type LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { AuditLogger } from '../common/auth-settings';
import { AuthMetrics } from './auth-metrics.service';
import { MAC_SECRET } from '../tokens/tokens.constants';
import type { MacSecret } from '../tokens/mac-secret.loader';

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
  'session.expired',
  'password.changed',
  'password.change_failed',
  'csrf.failure',
  'rate_limited',
  'reauth.required',
  'password.reset_requested',
  'password.reset',
  'email.verified',
  'mail.failed',
  'token.introspected',
  'access.forbidden',
  'sessions.listed',
  'account.unlocked',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export interface AuditFields {
  readonly userId?: string;
  /** The public session id (never a refresh secret, cookie or token). */
  readonly sid?: string;
  readonly reason?: string;
  /** Who asked comes in AuditSource, never here: a raw address must not reach a line. */
  readonly ip?: never;
  readonly reqId?: never;
  readonly [extra: string]: string | number | boolean | undefined;
}

/** Who caused the event (a ClientContext fits): the address is logged only as a keyed, truncated hash. */
export interface AuditSource {
  readonly ip?: string;
  /** The request's id (X-Request-Id or generated), as the `reqId` of the line. */
  readonly requestId?: string;
}


/** The host's audit logger (AuthModuleOptions.auditLogger), as the module provides it. */
export const AUDIT_LOGGER = Symbol('AUDIT_LOGGER');

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** Control and format characters (and line/paragraph separators) become \uXXXX: no forged log lines. */
export function escapeControl(s: string): string {
  // Ids and request ids are printable ASCII: one plain test instead of a Unicode-property replace.
  if (PRINTABLE_ASCII.test(s)) return s;
  return s.replace(CONTROL_OR_FORMAT, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Structured audit trail through pino: one JSON object per event with `time` (ISO 8601 UTC),
 * `audit: true`, `event`, ids, and `reqId` (the request's id, passed in by the caller: see
 * request-id.helper.ts). Never a password, token, refresh secret, cookie or email; the
 * client address only as a keyed hash (`ipHash`, 12 base64url characters, same address → same
 * hash on this deployment). Every string is control-character escaped and bounded. Each event
 * also counts in the `auth_events_total` metric.
 */
@Injectable()
export class AuthAudit {
  private readonly ipKey: Buffer;
  /** Writes one line; null when the logger is silent. */
  private readonly write: ((line: Record<string, string | number | boolean>, event: AuditEvent) => void) | null;

  constructor(
    @Inject(MAC_SECRET) secret: MacSecret,
    private readonly metrics: AuthMetrics,
    @Optional() @Inject(AUDIT_LOGGER) logger?: AuditLogger | null,
  ) {
    this.ipKey = secret.derive('audit-ip/v1');
    this.write = writerFor(logger ?? pino({ timestamp: pino.stdTimeFunctions.isoTime }));
  }

  /** The client address as a keyed hash: 12 base64url characters, the same for one address on this deployment. */
  hashIp(ip: string): string {
    return createHmac('sha256', this.ipKey).update(ip).digest('base64url').slice(0, 12);
  }

  record(event: AuditEvent, fields: AuditFields = {}, from: AuditSource = {}): void {
    this.metrics.event(event);
    if (!this.write) return;
    const line: Record<string, string | number | boolean> = { audit: true, event };
    if (from.requestId !== undefined) line.reqId = escapeControl(from.requestId.length > 200 ? from.requestId.slice(0, 200) : from.requestId);
    if (from.ip !== undefined) line.ipHash = this.hashIp(from.ip);
    for (const k in fields) {
      const v = fields[k as keyof AuditFields];
      if (v === undefined) continue;
      line[k] = typeof v === 'string' ? escapeControl(v.length > 200 ? v.slice(0, 200) : v) : v;
    }
    this.write(line, event);
  }
}

function isPino(logger: AuditLogger): logger is Logger {
  return typeof (logger as Logger).isLevelEnabled === 'function';
}

/**
 * A pino logger gets the line as its object, at info whatever its level: an operator who quiets
 * the logs to `warn` still gets every audit event. Only `silent` silences it. A Nest LoggerService
 * gets it through log(), with the context `AuthAudit`.
 */
function writerFor(logger: AuditLogger): ((line: Record<string, string | number | boolean>, event: AuditEvent) => void) | null {
  if (!isPino(logger)) {
    const nest: LoggerService = logger;
    return (line) => nest.log(line, 'AuthAudit');
  }
  if (logger.level === 'silent') return null;
  // Decided once, not per event: a child logger per event is measurable on the refresh path.
  const info = logger.isLevelEnabled('info') ? logger : logger.child({}, { level: 'info' });
  return (line, event) => info.info(line, event);
}
