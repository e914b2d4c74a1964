import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { normalizeIp, ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { AuthAudit } from '../observability/auth-audit.service';
import { clientAddressOf, clientOf } from '../http/client-context';
import { AuthError } from '../errors/auth-error.model';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit-store.port';

/** IPv6 clients count per /64, which one client usually holds whole. */
const IPV6_SUBNET_PREFIX = 64;

/**
 * Credential routes (login, browser login, password change, refresh) take this many times
 * AUTH_RATE_LIMIT_MAX requests per window from one address: an office behind one NAT address
 * signs in and refreshes freely. Guessing is stopped by counting failures (FailedAttemptLimiter)
 * and by the account lockout, not by counting colleagues; a refresh token is an unguessable
 * 256-bit secret.
 */
export const CREDENTIAL_VOLUME_FACTOR = 100;

/**
 * @nestjs/throttler on the unauthenticated and credential endpoints only (applied per route with
 * @UseGuards, never globally: the guarded hot path pays nothing), counters in RATE_LIMIT_STORE
 * (Redis when configured): `limit` requests per AUTH_RATE_LIMIT_WINDOW seconds per client and
 * route, then blocked for the rest of a window. `@Throttle` and `@SkipThrottle` work as the
 * library documents.
 *
 * The client is `req.ip`: Express derives it from X-Forwarded-For only through the proxies
 * TRUST_PROXY names, so without a trusted proxy the header is ignored.
 */
abstract class AddressThrottlerGuard extends ThrottlerGuard {
  constructor(name: string, limit: number, options: AuthSettings, storage: RateLimitStore, reflector: Reflector, private readonly audit: AuthAudit) {
    const windowMs = options.rateLimit.windowSeconds * 1000;
    super(
      {
        throttlers: [{ name, ttl: windowMs, limit, blockDuration: windowMs }],
        ipv6SubnetPrefix: IPV6_SUBNET_PREFIX,
        // No X-RateLimit-* headers; a 429 carries Retry-After (AuthError RATE_LIMITED).
        setHeaders: false,
      },
      storage,
      reflector,
    );
  }

  /**
   * Fails open when the counter store is unreachable: the rate limit is a cost multiplier, and
   * every route it covers that issues credentials (login, refresh, password change) needs Redis
   * anyway and fails closed there (503); registration keeps working on PostgreSQL alone.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      return await super.canActivate(context);
    } catch (e) {
      if (e instanceof AuthError && e.code === 'STORE_UNAVAILABLE') return true;
      throw e;
    }
  }

  /** The library's tracker (IPv6 by /64), over the address auth reads once per request. */
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return normalizeIp(clientAddressOf(req as unknown as Request) ?? 'unknown', IPV6_SUBNET_PREFIX);
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const req = context.switchToHttp().getRequest<Request>();
    this.audit.record('rate_limited', { route: (req.route as { path?: string } | undefined)?.path }, clientOf(req));
    throw new AuthError('RATE_LIMITED', { retryAfter: Math.max(1, detail.timeToBlockExpire) });
  }
}


/** `auth`: AUTH_RATE_LIMIT_MAX per window and address (registration). */
@Injectable()
export class AuthThrottlerGuard extends AddressThrottlerGuard {
  constructor(@Inject(AUTH_SETTINGS) options: AuthSettings, @Inject(RATE_LIMIT_STORE) storage: RateLimitStore, reflector: Reflector, audit: AuthAudit) {
    super('auth', options.rateLimit.max, options, storage, reflector, audit);
  }
}

/** The generous per-address volume limit of the credential routes (`auth-volume`): see CREDENTIAL_VOLUME_FACTOR. */
@Injectable()
export class CredentialVolumeGuard extends AddressThrottlerGuard {
  constructor(@Inject(AUTH_SETTINGS) options: AuthSettings, @Inject(RATE_LIMIT_STORE) storage: RateLimitStore, reflector: Reflector, audit: AuthAudit) {
    super('auth-volume', options.rateLimit.max * CREDENTIAL_VOLUME_FACTOR, options, storage, reflector, audit);
  }
}
