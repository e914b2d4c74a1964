import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { claimsSatisfy, type ClaimValue } from '../credentials/user-claims.validator';
import { AuthError } from '../errors/auth-error.model';
import { clientOf } from '../http/client-context';
import { AuthAudit } from '../observability/auth-audit.service';
import { AuthenticationGuard } from './authentication.guard';
import { afterAuthentication } from './after-authentication';
import type { AuthPrincipal } from './auth-principal.model';

const REQUIRED_CLAIMS = Symbol('REQUIRED_CLAIMS');

export type ClaimsRequirement = Readonly<Record<string, ClaimValue>>;

/**
 * Runs only on routes marked @RequireClaims() / @RequireRole(), after AuthenticationGuard (global
 * or @UseGuards, in either order: without a principal yet it authenticates the request itself) or
 * passport's AuthGuard('jwt') placed before it: the principal's claims (the access token's, from
 * CredentialsPort.claimsFor) must hold every required value, else 403 FORBIDDEN, audited as
 * access.forbidden. Method requirements add to the class's.
 */
@Injectable()
export class ClaimsGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuthAudit,
    private readonly authentication: AuthenticationGuard,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    return afterAuthentication(context, this.authentication, (principal, req) => this.check(context, req, principal));
  }

  private check(context: ExecutionContext, req: Request, principal: AuthPrincipal): boolean {
    const required = this.reflector.getAll<Array<ClaimsRequirement | undefined>>(REQUIRED_CLAIMS, [context.getClass(), context.getHandler()]);
    const unmet = required.filter((r): r is ClaimsRequirement => r !== undefined && !claimsSatisfy(principal.claims, r));
    if (unmet.length === 0) return true;
    this.audit.record('access.forbidden', { userId: principal.sub, sid: principal.sid, reason: `requires ${describe(unmet)}` }, clientOf(req));
    throw new AuthError('FORBIDDEN');
  }
}

function describe(unmet: ClaimsRequirement[]): string {
  return unmet.flatMap((r) => Object.entries(r).map(([k, v]) => `${k}=${typeof v === 'string' ? v : v.join('+')}`)).join(', ');
}

/**
 * The caller's access token must carry these claims (from CredentialsPort.claimsFor): a string
 * value must equal the claim or be in its list, a list value must all be in it. E.g.
 * `@RequireClaims({ tenant: 'acme' })`. On a class, for every route; a method's adds to it.
 */
export function RequireClaims(required: ClaimsRequirement): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(REQUIRED_CLAIMS, required), UseGuards(ClaimsGuard));
}

/** The caller's `roles` claim must hold every one of these roles: `@RequireRole('admin')`. */
export function RequireRole(...roles: [string, ...string[]]): MethodDecorator & ClassDecorator {
  return RequireClaims({ roles });
}
