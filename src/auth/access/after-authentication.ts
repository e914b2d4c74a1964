import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AuthError } from '../errors/auth-error.model';
import type { AuthPrincipal } from './auth-principal.model';
import type { AuthenticationGuard } from './authentication.guard';
import { principalOf } from './current-user.decorator';

/**
 * For a guard that checks the principal (RecentAuthGuard, ClaimsGuard): runs `check` with the
 * principal an earlier guard set (global, @UseGuards or passport), or, when this guard runs first,
 * after authenticating the request itself.
 */
export function afterAuthentication(
  context: ExecutionContext,
  authentication: AuthenticationGuard,
  check: (principal: AuthPrincipal, req: Request) => boolean,
): boolean | Promise<boolean> {
  const req = context.switchToHttp().getRequest<Request>();
  const run = (): boolean => {
    const principal = principalOf(req);
    if (!principal) throw new AuthError('ACCESS_TOKEN_MISSING');
    return check(principal, req);
  };
  if (principalOf(req)) return run();
  return Promise.resolve(authentication.canActivate(context)).then(run);
}
