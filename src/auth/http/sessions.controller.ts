import { AuthenticationGuard } from '../access/authentication.guard';
import { Controller, Delete, Get, HttpCode, Param, Req, UseFilters, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthPrincipal } from '../access/auth-principal.model';
import { SessionLifecycleService, SessionSummary } from '../sessions/session-lifecycle.service';
import { clientOf } from './client-context';
import { CurrentUser } from '../access/current-user.decorator';
import { NoStore } from './no-store.decorator';
import { ProblemDetailsFilter } from './problem-details.filter';

@NoStore()
@UseFilters(ProblemDetailsFilter)
// Auth's routes carry their own guard: they are protected whether or not the host installs the global one.
@UseGuards(AuthenticationGuard)
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly auth: SessionLifecycleService) {}

  @Get()
  async list(@CurrentUser() principal: AuthPrincipal): Promise<{ sessions: SessionSummary[] }> {
    return { sessions: await this.auth.listSessions(principal) };
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@CurrentUser() principal: AuthPrincipal, @Param('id') id: string, @Req() req: Request): Promise<void> {
    return this.auth.revokeSession(principal, id, clientOf(req));
  }
}
