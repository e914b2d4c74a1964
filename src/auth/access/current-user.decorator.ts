import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthPrincipal } from './auth-principal.model';

/*
 * What the guard established about a request, keyed by the request object rather than stored as
 * a property of it: adding a property to Express's request objects, whose shapes differ from route
 * to route, is a megamorphic store, on every guarded request. An entry lives exactly as long as
 * its request.
 */
const principals = new WeakMap<object, AuthPrincipal>();
const failures = new WeakMap<object, Error>();

/** The principal the guard accepted for this request, if any. */
export function principalOf(req: object): AuthPrincipal | undefined {
  return principals.get(req);
}

export function setPrincipal(req: object, principal: AuthPrincipal): void {
  principals.set(req, principal);
}

/** On @OptionalAuth() routes: why a presented credential was not accepted. */
export function authFailureOf(req: object): Error | undefined {
  return failures.get(req);
}

export function setAuthFailure(req: object, failure: Error): void {
  failures.set(req, failure);
}

/**
 * `@CurrentUser() user: AuthPrincipal` or `@CurrentUser('sub') userId: string`.
 * Undefined only on @Public()/@OptionalAuth() routes called without credentials.
 */
export const CurrentUser = createParamDecorator((field: keyof AuthPrincipal | undefined, ctx: ExecutionContext) => {
  const principal = principalOf(ctx.switchToHttp().getRequest<object>());
  return field && principal ? principal[field] : principal;
});
