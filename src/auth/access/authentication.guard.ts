import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthError } from '../errors/auth-error.model';
import { RequestAuthenticator } from './request-authenticator.service';
import { cookieOf } from '../http/request-cookies';
import { requestOriginOf } from '../browser/request-origin';
import type { AuthPrincipal } from './auth-principal.model';
import { AUTH_OPTIONAL, IS_PUBLIC } from './public.decorator';
import { authFailureOf, principalOf, setAuthFailure, setPrincipal } from './current-user.decorator';

/**
 * The guard: every route it covers requires a valid credential unless it is @Public(). Installed
 * for every route by default (AuthModule's `globalGuard`), or put on controllers and routes with
 * @UseGuards(AuthenticationGuard). Thin on purpose: it reads metadata, the Authorization header or else the browser-session cookie, and
 * delegates to RequestAuthenticator.
 * Subclass and override the protected methods to adapt it (e.g. another transport).
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    protected readonly reflector: Reflector,
    protected readonly authentication: RequestAuthenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') throw new AuthError('FORBIDDEN'); // closed by default
    if (this.isPublic(context)) return true;
    const req = this.getRequest(context);
    // Auth's own controllers carry this guard too (for hosts without the global one): decided once.
    if (principalOf(req) !== undefined || authFailureOf(req) !== undefined) return true;
    const optional = this.isOptional(context);
    try {
      const result = this.authenticate(req);
      if (result instanceof Promise) {
        return result.then(
          (p) => this.accept(req, p),
          (e: unknown) => this.reject(req, e, optional),
        );
      }
      return this.accept(req, result);
    } catch (e) {
      return this.reject(req, e, optional);
    }
  }

  protected authenticate(req: Request): AuthPrincipal | Promise<AuthPrincipal> {
    const token = RequestAuthenticator.bearerFrom(req.headers.authorization);
    if (token === null) {
      // No Authorization header: a browser-session cookie may authenticate (CSRF checked there).
      const cookie = cookieOf(req, this.authentication.sessionCookieName);
      if (cookie !== undefined) return this.authentication.authenticateSession(cookie, requestOriginOf(req));
      throw new AuthError('ACCESS_TOKEN_MISSING');
    }
    if (token === 'malformed') throw new AuthError('ACCESS_TOKEN_INVALID');
    return this.authentication.authenticate(token);
  }

  protected getRequest(context: ExecutionContext): Request {
    return context.switchToHttp().getRequest<Request>();
  }

  protected isPublic(context: ExecutionContext): boolean {
    return this.routeFlags(context).isPublic;
  }

  protected isOptional(context: ExecutionContext): boolean {
    return this.routeFlags(context).optional;
  }

  /**
   * Route metadata never changes after boot: read it once per (handler, controller), not on every
   * request. Keyed by both: an inherited handler may sit on controllers with different metadata.
   */
  private readonly flagsByRoute = new WeakMap<object, WeakMap<object, { isPublic: boolean; optional: boolean }>>();

  private routeFlags(context: ExecutionContext): { isPublic: boolean; optional: boolean } {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.flagsByRoute.get(handler);
    if (!byClass) this.flagsByRoute.set(handler, (byClass = new WeakMap()));
    let flags = byClass.get(cls);
    if (!flags) {
      const targets = [handler, cls];
      flags = {
        isPublic: this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true,
        optional: this.reflector.getAllAndOverride<boolean | undefined>(AUTH_OPTIONAL, targets) === true,
      };
      byClass.set(cls, flags);
    }
    return flags;
  }

  private accept(req: Request, principal: AuthPrincipal): true {
    setPrincipal(req, principal);
    return true;
  }

  private reject(req: Request, e: unknown, optional: boolean): true {
    // An unavailable store is never treated as "no credentials", nor is a refused CSRF check.
    if (optional && e instanceof AuthError && e.code !== 'STORE_UNAVAILABLE' && e.code !== 'CSRF_TOKEN_INVALID') {
      setAuthFailure(req, e);
      return true;
    }
    throw e;
  }
}
