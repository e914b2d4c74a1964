import { AuthenticationGuard } from '../access/authentication.guard';
import { Controller, Delete, Get, HttpCode, Param, Req, UseFilters, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthPrincipal } from '../access/auth-principal.model';
import { SessionLifecycleService, SessionSummary } from '../sessions/session-lifecycle.service';
import { clientOf } from './client-context';
import { CurrentUser } from '../access/current-user.decorator';
import { NoStore } from './no-store.decorator';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { SessionListModel } from '../openapi/auth-openapi.models';
import { ApiProblems } from '../openapi/auth-openapi.problems';
import { ApiAuthenticated } from '../openapi/auth-openapi.security';

@ApiTags('sessions')
@NoStore()
@UseFilters(ProblemDetailsFilter)
// Auth's routes carry their own guard: they are protected whether or not the host installs the global one.
@UseGuards(AuthenticationGuard)
@Controller('auth/sessions')
export class SessionsController {
  constructor(private readonly auth: SessionLifecycleService) {}

  @ApiOperation({ summary: "The user's live sessions, API and browser" })
  @ApiAuthenticated('safe')
  @ApiOkResponse({ description: 'The sessions.', type: SessionListModel })
  @ApiProblems('GET auth/sessions')
  @Get()
  async list(@CurrentUser() principal: AuthPrincipal): Promise<{ sessions: SessionSummary[] }> {
    return { sessions: await this.auth.listSessions(principal) };
  }

  @ApiOperation({ summary: "End one of the user's own sessions", description: "Another user's session is answered as unknown (404)." })
  @ApiParam({ name: 'id', description: 'A session id from the list.' })
  @ApiAuthenticated('unsafe')
  @ApiNoContentResponse({ description: 'Ended.' })
  @ApiProblems('DELETE auth/sessions/:id')
  @Delete(':id')
  @HttpCode(204)
  revoke(@CurrentUser() principal: AuthPrincipal, @Param('id') id: string, @Req() req: Request): Promise<void> {
    return this.auth.revokeSession(principal, id, clientOf(req));
  }
}
