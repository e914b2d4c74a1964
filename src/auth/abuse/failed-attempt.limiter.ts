import { Inject, Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { AuthError } from '../errors/auth-error.model';
import { AuthAudit, type AuditSource } from '../observability/auth-audit.service';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit-store.port';

const NAME = 'credential-failures';

/**
 * Failed credential checks per client address (IPv6 per /64), across accounts: the 10th failure
 * (AUTH_RATE_LIMIT_MAX) in a window blocks the address for the rest of it, and a blocked address
 * is refused (429 RATE_LIMITED) before any password is verified. Successes count nothing, so a
 * whole office behind one address signs in freely while a guesser — one account or many — is
 * stopped. The per-account lockout (LoginAttemptStore) comes on top.
 */
@Injectable()
export class FailedAttemptLimiter {
  constructor(
    @Inject(RATE_LIMIT_STORE) private readonly store: RateLimitStore,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    private readonly audit: AuthAudit,
  ) {}

  async admit(client: AuditSource): Promise<void> {
    const state = await this.store.peek(trackerOf(client.ip), NAME);
    if (!state.isBlocked) return;
    this.audit.record('rate_limited', { reason: 'failed credentials from this address' }, client);
    throw new AuthError('RATE_LIMITED', { retryAfter: Math.max(1, state.timeToBlockExpire) });
  }

  async failed(client: AuditSource): Promise<void> {
    const windowMs = this.options.rateLimit.windowSeconds * 1000;
    // Blocked once `max` failures are counted: increment blocks past its limit.
    await this.store.increment(trackerOf(client.ip), windowMs, this.options.rateLimit.max - 1, windowMs, NAME);
  }
}

function trackerOf(ip: string | undefined): string {
  return normalizeIp(ip ?? 'unknown', 64);
}
