import { Controller, Delete, Get, HttpCode, Param } from '@nestjs/common';
import type { AuthPrincipal } from './auth-principal.model';
import { AuthService, SessionSummary } from './auth.service';
import { CurrentUser } from './decorators/current-user.decorator';

@Controller('auth/sessions')
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
