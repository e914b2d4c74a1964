import { AuthenticationGuard } from '../access/authentication.guard';
import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseFilters, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import type { AuthPrincipal } from '../access/auth-principal.model';
import { authValidationPipe } from '../http/auth-validation.pipe';
import { CurrentUser } from '../access/current-user.decorator';
import { Public } from '../access/public.decorator';
import { BrowserLoginDto } from '../http/auth.dto';
import { CredentialVolumeGuard } from '../abuse/auth-throttler.guard';
import { AuthError } from '../errors/auth-error.model';
import { BrowserSessionService, BrowserSessionState } from './browser-session.service';
import { clientOf } from '../http/client-context';
import { requestOriginOf } from './request-origin';
import { sessionCookieName, sessionCookieOptions } from './session-cookie.options';
import { NoStore } from '../http/no-store.decorator';
import { cookieOf } from '../http/request-cookies';
import { JsonBodyInterceptor } from '../http/json-body.interceptor';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { BrowserSessionModel } from '../openapi/auth-openapi.models';
import { ApiProblems } from '../openapi/auth-openapi.problems';
import { SECURITY } from '../openapi/auth-openapi.security';

/**
 * The browser profile over HTTP. Signing out is the shared POST /auth/logout (with the cookie and
 * the CSRF token); the session list and revocation are the shared /auth/sessions routes.
 */
@ApiTags('browser')
@NoStore()
@UseFilters(ProblemDetailsFilter)
@UseInterceptors(JsonBodyInterceptor)
// Auth's routes carry their own guard: they are protected whether or not the host installs the global one.
@UseGuards(AuthenticationGuard)
@Controller('auth/browser')
export class BrowserController {
  constructor(
    private readonly browser: BrowserSessionService,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
  ) {}

  /** `{email, password}` from a page of ours -> the session cookie, and the page's state (CSRF token). */
  @ApiOperation({
    summary: 'Sign in from a page of ours: the session cookie, and the CSRF token',
    description: 'From our origin only (`Origin`, or `Sec-Fetch-Site: same-origin`). A session cookie presented here is ended: every sign-in gets a new session.',
  })
  @ApiBody({ type: BrowserLoginDto })
  @ApiOkResponse({ description: 'The session state.', type: BrowserSessionModel, headers: { 'Set-Cookie': { description: 'The session cookie.', schema: { type: 'string' } } } })
  @ApiProblems('POST auth/browser/login')
  @Public()
  @Post('login')
  @UseGuards(CredentialVolumeGuard) // as the API login: a generous volume limit; failures are counted
  @UsePipes(authValidationPipe())
  @HttpCode(200)
  async login(@Body() body: BrowserLoginDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<BrowserSessionState> {
    const name = sessionCookieName(this.options);
    const presented = cookieOf(req, name);
    const result = await this.browser.login(
      body.email,
      body.password,
      clientOf(req),
      requestOriginOf(req),
      presented,
    );
    res.cookie(name, result.cookieValue, sessionCookieOptions(this.options, result.cookieMaxAge));
    return result.state;
  }

  /** Who the cookie says you are, and the CSRF token of the cookie's session. Read-only. */
  @ApiOperation({ summary: 'The browser session of the cookie, and its CSRF token', description: 'Only with the session cookie: a bearer token answers SESSION_COOKIE_INVALID.' })
  @ApiSecurity(SECURITY.sessionCookie)
  @ApiOkResponse({ description: 'The session state.', type: BrowserSessionModel })
  @ApiProblems('GET auth/browser/session')
  @Get('session')
  session(@CurrentUser() principal: AuthPrincipal): BrowserSessionState {
    if (principal.via !== 'session') throw new AuthError('SESSION_COOKIE_INVALID');
    return this.browser.state(principal);
  }
}
