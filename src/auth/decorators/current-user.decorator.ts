import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthPrincipal } from '../auth-principal.model';

/** The request property where the guard puts the principal. */
export const PRINCIPAL_KEY = 'authPrincipal';

/** On @OptionalAuth() routes: why a presented credential was not accepted. */
export const AUTH_FAILURE_KEY = 'authFailure';

export function principalOf(req: object): AuthPrincipal | undefined {
  return (req as Record<string, AuthPrincipal | undefined>)[PRINCIPAL_KEY];
}

/**
 * `@CurrentUser() user: AuthPrincipal` or `@CurrentUser('sub') userId: string`.
 * Undefined only on @Public()/@OptionalAuth() routes called without credentials.
 */
export const CurrentUser = createParamDecorator((field: keyof AuthPrincipal | undefined, ctx: ExecutionContext) => {
  const principal = principalOf(ctx.switchToHttp().getRequest<object>());
  return field && principal ? principal[field] : principal;
});
