import { applyDecorators, CanActivate, ExecutionContext, Inject, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { AuthAudit } from '../observability/auth-audit.service';
import { CLOCK, type Clock } from '../common/clock.port';
import type { Request } from 'express';
import { clientOf } from '../http/client-context';
import { AuthError } from '../errors/auth-error.model';
import { AuthenticationGuard } from './authentication.guard';
import { afterAuthentication } from './after-authentication';
import type { AuthPrincipal } from './auth-principal.model';

const RECENT_AUTH_MAX_AGE = Symbol('RECENT_AUTH_MAX_AGE');

/**
 * Runs only on routes marked @RequireRecentAuth(), after AuthenticationGuard (global or
 * @UseGuards, in either order: without a principal yet it authenticates the request itself) or
 * passport's AuthGuard('jwt') placed before it: the principal's
 * auth_time (the login, kept across refreshes) must be at most max-age seconds old, else
 * 401 REAUTHENTICATION_REQUIRED with `WWW-Authenticate: Bearer
 * error="insufficient_user_authentication", max_age=N` (RFC 9470). Signing in again gives a
 * fresh auth_time.
 */
@Injectable()
export class RecentAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly audit: AuthAudit,
    private readonly authentication: AuthenticationGuard,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    return afterAuthentication(context, this.authentication, (principal, req) => this.check(context, req, principal));
  }

  private check(context: ExecutionContext, req: Request, principal: AuthPrincipal): boolean {
    const custom = this.reflector.getAllAndOverride<number | undefined>(RECENT_AUTH_MAX_AGE, [context.getHandler(), context.getClass()]);
    const maxAge = custom ?? this.options.reauthMaxAge;
    const age = Math.floor(this.clock.now() / 1000) - principal.authTime;
    if (age <= maxAge) return true;
    this.audit.record('reauth.required', { userId: principal.sub, sid: principal.sid }, clientOf(req));
    throw new AuthError('REAUTHENTICATION_REQUIRED', { maxAge });
  }
}

/**
 * Marks a sensitive operation: the caller must have signed in within `maxAgeSeconds` (default
 * AUTH_REAUTH_MAX_AGE). For any feature module: `@RequireRecentAuth() @Post('transfer') ...`.
 */
export function RequireRecentAuth(maxAgeSeconds?: number): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(RECENT_AUTH_MAX_AGE, maxAgeSeconds), UseGuards(RecentAuthGuard));
}
