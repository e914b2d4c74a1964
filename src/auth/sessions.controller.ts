import { Controller, Delete, Get, HttpCode, Param, UseInterceptors } from '@nestjs/common';
import type { AuthPrincipal } from './auth-principal.model';
import { AuthService, SessionSummary } from './auth.service';
import { CurrentUser } from './decorators/current-user.decorator';
import { NoStoreInterceptor } from './no-store.interceptor';

@Controller('auth/sessions')
@UseInterceptors(NoStoreInterceptor)
export class SessionsController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  async list(@CurrentUser() principal: AuthPrincipal): Promise<{ sessions: SessionSummary[] }> {
    return { sessions: await this.auth.listSessions(principal) };
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@CurrentUser() principal: AuthPrincipal, @Param('id') id: string): Promise<void> {
    return this.auth.revokeSession(principal, id);
  }
}
