import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerRequest } from '@nestjs/throttler';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { AuthAudit } from '../observability/auth-audit.service';
import type { Request } from 'express';
import { clientAddressOf, clientOf } from '../http/client-context';
import { AuthError } from '../errors/auth-error.model';
import { subnetOf } from '../sessions/device-binding';
import { RATE_LIMIT_STORE, type RateLimitStore } from './rate-limit-store.port';

/**
 * @nestjs/throttler on the unauthenticated and credential endpoints only (applied per route with
 * @UseGuards, never globally: the guarded hot path pays nothing). One throttler, `auth`:
 * AUTH_RATE_LIMIT_MAX requests per AUTH_RATE_LIMIT_WINDOW seconds per client and route, then
 * blocked for the rest of a window; counters in RATE_LIMIT_STORE (Redis when configured).
 *
 * The client is `req.ip`: Express derives it from X-Forwarded-For only through the proxies
 * TRUST_PROXY names, so without a trusted proxy the header is ignored. (The library's default,
 * `req.ips[0]`, is the left-most, client-supplied X-Forwarded-For entry: spoofable.) IPv6
 * clients count per /64, which one client usually holds whole.
 */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  constructor(
    @Inject(AUTH_SETTINGS) options: AuthSettings,
    @Inject(RATE_LIMIT_STORE) storage: RateLimitStore,
    reflector: Reflector,
    private readonly audit: AuthAudit,
  ) {
    const windowMs = options.rateLimit.windowSeconds * 1000;
    // No X-RateLimit-* headers: with leased counters (RedisRateLimitStore) the remaining count is
    // per instance, not a promise; a 429 carries Retry-After (AuthError RATE_LIMITED).
    super(
      { throttlers: [{ name: 'auth', ttl: windowMs, limit: options.rateLimit.max, blockDuration: windowMs }], setHeaders: false },
      storage,
      reflector,
    );
    // The base class reads its options in onModuleInit, which Nest does not call for a guard
    // instantiated through @UseGuards: read them now.
    void super.onModuleInit();
  }

  /**
   * Fails open when the counter store is unreachable: the rate limit is a cost multiplier, and
   * every route it covers that issues credentials (login, refresh, password change) needs Redis
   * anyway and fails closed there (503); registration keeps working on PostgreSQL alone.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    try {
      const route = this.routeThrottle(context);
      if (route === 'dynamic') return await super.canActivate(context);
      if (route === 'skip') return true;
      return await this.handleRequest({ context, ...route });
    } catch (e) {
      if (e instanceof AuthError && e.code === 'STORE_UNAVAILABLE') return true;
      throw e;
    }
  }

  /**
   * What the base class reads per request — six reflector lookups and a promise per value, ~10 % of
   * a refresh — resolved once per route, since @Throttle/@SkipThrottle metadata is static. A route
   * whose limits are functions of the request is left to the base class ('dynamic').
   */
  private readonly routes = new WeakMap<object, WeakMap<object, RouteThrottle>>();

  private routeThrottle(context: ExecutionContext): RouteThrottle {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.routes.get(handler);
    if (!byClass) this.routes.set(handler, (byClass = new WeakMap()));
    let route = byClass.get(cls);
    if (route === undefined) byClass.set(cls, (route = this.resolveRoute(handler, cls)));
    return route;
  }

  private resolveRoute(handler: object, cls: object): RouteThrottle {
    if (this.throttlers.length !== 1 || this.commonOptions.skipIf || this.throttlers[0].skipIf) return 'dynamic';
    const throttler = this.throttlers[0];
    // @nestjs/throttler's own metadata keys (THROTTLER_SKIP etc., which it does not export), suffixed
    // with the throttler's name as @Throttle/@SkipThrottle write them; the guard spec pins both.
    const meta = (key: string): unknown => this.reflector.getAllAndOverride(`${key}${throttler.name}`, [handler, cls] as never);
    if (meta('THROTTLER:SKIP') === true) return 'skip';
    const limit = meta('THROTTLER:LIMIT') ?? throttler.limit;
    const ttl = meta('THROTTLER:TTL') ?? throttler.ttl;
    const blockDuration = meta('THROTTLER:BLOCK_DURATION') ?? throttler.blockDuration ?? ttl;
    if (typeof limit !== 'number' || typeof ttl !== 'number' || typeof blockDuration !== 'number') return 'dynamic';
    const getTracker = (meta('THROTTLER:TRACKER') ?? throttler.getTracker ?? this.commonOptions.getTracker) as ThrottlerRequest['getTracker'];
    const generateKey = (meta('THROTTLER:KEY_GENERATOR') ?? throttler.generateKey ?? this.commonOptions.generateKey) as ThrottlerRequest['generateKey'];
    return { limit, ttl, blockDuration, throttler, getTracker, generateKey };
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return trackerOf(req as unknown as Request);
  }

  /**
   * The base class's handleRequest, less what this guard never configures (ignoreUserAgents,
   * X-RateLimit headers) and with the tracker read synchronously: two promise hops less per
   * request. Anything configured otherwise (a route's own tracker, user-agent exemptions) goes to
   * the base class.
   */
  protected override async handleRequest(r: ThrottlerRequest): Promise<boolean> {
    if (r.getTracker !== this.commonOptions.getTracker || r.throttler.ignoreUserAgents || this.commonOptions.ignoreUserAgents) {
      return super.handleRequest(r);
    }
    const name = r.throttler.name ?? 'default';
    const tracker = trackerOf(r.context.switchToHttp().getRequest<Request>());
    const key = r.generateKey(r.context, tracker, name);
    const hit = await this.storageService.increment(key, r.ttl, r.limit, r.blockDuration, name);
    if (hit.isBlocked) await this.throwThrottlingException(r.context, { ...hit, limit: r.limit, ttl: r.ttl, key, tracker });
    return true;
  }

  /**
   * The library hashes `class-handler-name-tracker` with SHA-256 on every request; the plain text
   * is as bounded (a route name and an address or /64) and costs no hashing on the refresh path.
   */
  protected override generateKey(context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${context.getClass().name}.${context.getHandler().name}:${throttlerName}:${tracker}`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const req = context.switchToHttp().getRequest<Request>();
    this.audit.record('rate_limited', { route: (req.route as { path?: string } | undefined)?.path }, clientOf(req));
    throw new AuthError('RATE_LIMITED', { retryAfter: Math.max(1, detail.timeToBlockExpire) });
  }
}

/** The client address, IPv6 clients by /64 (one client usually holds a whole /64). */
function trackerOf(req: Request): string {
  const ip = clientAddressOf(req) ?? 'unknown';
  return ip.includes(':') && !ip.startsWith('::ffff:') ? subnetOf(ip) || ip : ip;
}

type RouteThrottle = Omit<ThrottlerRequest, 'context'> | 'skip' | 'dynamic';
