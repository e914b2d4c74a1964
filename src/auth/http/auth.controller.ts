import { AuthenticationGuard } from '../access/authentication.guard';
import { applyDecorators, Body, Controller, Get, HttpCode, Inject, Post, Req, Res, UseFilters, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import type { AuthPrincipal } from '../access/auth-principal.model';
import { SessionLifecycleService, IssuedTokens } from '../sessions/session-lifecycle.service';
import { refreshCookieName, refreshCookieOptions } from './refresh-cookie.options';
import { sessionCookieName, sessionCookieOptions } from '../browser/session-cookie.options';
import { authValidationPipe } from './auth-validation.pipe';
import { authFailureOf, CurrentUser } from '../access/current-user.decorator';
import { OptionalAuth, Public } from '../access/public.decorator';
import { ChangePasswordDto, LoginDto, RefreshDto, RegisterDto } from './auth.dto';
import { AuthThrottlerGuard, CredentialVolumeGuard } from '../abuse/auth-throttler.guard';
import { RequireRecentAuth } from '../access/require-recent-auth.decorator';
import { clientOf } from './client-context';
import { AuthError } from '../errors/auth-error.model';
import { NoStore } from './no-store.decorator';
import { cookieOf } from './request-cookies';
import { BrowserSessionService } from '../browser/browser-session.service';
import { requestOriginOf } from '../browser/request-origin';
import { JsonBodyInterceptor } from './json-body.interceptor';
import { ProblemDetailsFilter } from './problem-details.filter';
import { AccountRecoveryService } from '../recovery/account-recovery.service';
import { ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { PrincipalModel, RegisteredUserModel, TokenResponseModel } from '../openapi/auth-openapi.models';
import { ApiProblems } from '../openapi/auth-openapi.problems';
import { ApiAnonymousAllowed, ApiAuthenticated, SECURITY } from '../openapi/auth-openapi.security';

export interface TokenResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken?: string;
  refreshExpiresIn?: number;
}

/**
 * The JSON body policy and validation, only on the routes that take a body: an interceptor and a
 * pipe cost every route they cover, /auth/me included (docs/performance.md).
 */
const validated = applyDecorators(UseInterceptors(JsonBodyInterceptor), UsePipes(authValidationPipe()));
/** Rate limited per client address and route (AUTH_RATE_LIMIT_*); never on the guarded hot path. */
const throttled = UseGuards(AuthThrottlerGuard);
/** Credential routes: a generous per-address volume limit; guessing is stopped by counting failures. */
const volumeLimited = UseGuards(CredentialVolumeGuard);

/** Thin HTTP adapter: parses transport (cookie or body), calls SessionLifecycleService, shapes the reply. */
@ApiTags('auth')
@NoStore()
@UseFilters(ProblemDetailsFilter)
// Auth's routes carry their own guard: they are protected whether or not the host installs the global one.
@UseGuards(AuthenticationGuard)
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: SessionLifecycleService,
    private readonly browser: BrowserSessionService,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    private readonly recovery: AccountRecoveryService,
  ) {}

  @ApiOperation({ summary: 'Create an account', description: 'A verification link is mailed to the address.' })
  @ApiBody({ type: RegisterDto })
  @ApiCreatedResponse({ description: 'Created.', type: RegisteredUserModel })
  @ApiProblems('POST auth/register')
  @Public()
  @Post('register')
  @throttled
  @validated
  @HttpCode(201)
  async register(@Body() body: RegisterDto, @Req() req: Request): Promise<{ id: string; email: string }> {
    const user = await this.auth.register(body.email, body.password, clientOf(req));
    this.recovery.sendVerification(user, requestOriginOf(req).selfOrigin, clientOf(req));
    return user;
  }

  @ApiOperation({ summary: 'Sign in: an access token, and a refresh token in an HttpOnly cookie (or in the body with `refreshTokenDelivery: "body"`)' })
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ description: 'Tokens issued.', type: TokenResponseModel, headers: { 'Set-Cookie': { description: 'The refresh cookie, unless `refreshTokenDelivery` is `body`.', schema: { type: 'string' } } } })
  @ApiProblems('POST auth/login')
  @Public()
  @Post('login')
  @volumeLimited
  @validated
  @HttpCode(200)
  async login(@Body() body: LoginDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<TokenResponse> {
    const tokens = await this.auth.login(body.email, body.password, clientOf(req));
    return this.deliver(tokens, body.refreshTokenDelivery ?? 'cookie', res);
  }

  @ApiOperation({
    summary: 'Rotate the refresh token: a new access token and refresh token, delivered the way the old one came',
    description: 'The refresh token from the body, or else from the refresh cookie (then from our origin only).',
  })
  @ApiBody({ type: RefreshDto, required: false })
  @ApiSecurity(SECURITY.refreshCookie)
  @ApiAnonymousAllowed()
  @ApiOkResponse({ description: 'Tokens issued.', type: TokenResponseModel, headers: { 'Set-Cookie': { description: 'The new refresh cookie, when the old token came in it.', schema: { type: 'string' } } } })
  @ApiProblems('POST auth/refresh')
  @Public()
  @Post('refresh')
  @volumeLimited
  @validated
  @HttpCode(200)
  async refresh(@Body() body: RefreshDto, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<TokenResponse> {
    const fromBody = body.refreshToken;
    const token = fromBody ?? this.cookieToken(req);
    if (token === undefined) throw new AuthError('REFRESH_TOKEN_MISSING');
    if (fromBody === undefined) this.browser.assertSameOrigin(requestOriginOf(req));
    try {
      return this.deliver(await this.auth.refresh(token, clientOf(req)), fromBody !== undefined ? 'body' : 'cookie', res);
    } catch (e) {
      // A dead cookie is useless to the browser: drop it so the client stops presenting it.
      if (fromBody === undefined && e instanceof AuthError && e.status === 401) this.clearCookie(res);
      throw e;
    }
  }

  @ApiOperation({
    summary: "End the caller's session",
    description: 'The session of the bearer token or session cookie, else of the refresh token (body, else cookie). Ending an ended session succeeds.',
  })
  @ApiBody({ type: RefreshDto, required: false })
  @ApiAuthenticated('unsafe')
  @ApiSecurity(SECURITY.refreshCookie)
  @ApiAnonymousAllowed()
  @ApiNoContentResponse({ description: 'Ended; the cookies it used are cleared.' })
  @ApiProblems('POST auth/logout')
  @OptionalAuth()
  @Post('logout')
  @validated
  @HttpCode(204)
  async logout(
    @Body() body: RefreshDto,
    @Req() req: Request,
    @CurrentUser() principal: AuthPrincipal | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const cookieToken = body.refreshToken === undefined && !principal ? this.cookieToken(req) : undefined;
    if (cookieToken !== undefined) this.browser.assertSameOrigin(requestOriginOf(req));
    const refreshToken = body.refreshToken ?? cookieToken;
    const failure = authFailureOf(req) as AuthError | undefined;
    if (!principal && refreshToken === undefined) {
      // The bearer (or session cookie) named a session that is already over: logging out again is a success.
      if (failure?.code === 'SESSION_REVOKED') return this.clearSessionCookie(req, res);
      // A dead or unknown browser-session cookie: nothing to end server-side, drop the cookie.
      if ((failure?.code === 'SESSION_EXPIRED' || failure?.code === 'SESSION_COOKIE_INVALID') && this.hasSessionCookie(req)) {
        return this.clearSessionCookie(req, res);
      }
      throw failure ?? new AuthError('ACCESS_TOKEN_MISSING');
    }
    await this.auth.logout({ principal, refreshToken }, clientOf(req));
    // Only once the session is really ended: after a 503 the client must be able to retry.
    this.clearCookie(res);
    if (principal?.via === 'session') this.clearSessionCookie(req, res);
  }

  @ApiOperation({ summary: "End every session of the user (needs a recent sign-in)" })
  @ApiAuthenticated('unsafe')
  @ApiNoContentResponse({ description: 'Ended.' })
  @ApiProblems('POST auth/logout-all')
  @Post('logout-all')
  @RequireRecentAuth()
  @HttpCode(204)
  async logoutAll(@CurrentUser() principal: AuthPrincipal, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.auth.logoutAll(principal, clientOf(req));
    this.clearCookie(res);
    this.clearSessionCookie(req, res);
  }

  /** Needs the current password and a recent sign-in; ends every other session, keeps this one. */
  @ApiOperation({ summary: "Change the password (needs a recent sign-in); ends the user's other sessions" })
  @ApiBody({ type: ChangePasswordDto })
  @ApiAuthenticated('unsafe')
  @ApiNoContentResponse({ description: 'Changed.' })
  @ApiProblems('POST auth/password')
  @Post('password')
  @RequireRecentAuth()
  @volumeLimited
  @validated
  @HttpCode(204)
  changePassword(@Body() body: ChangePasswordDto, @CurrentUser() principal: AuthPrincipal, @Req() req: Request): Promise<void> {
    return this.auth.changePassword(principal, body.currentPassword, body.newPassword, clientOf(req));
  }

  @ApiOperation({ summary: 'Who the credential says you are' })
  @ApiAuthenticated('safe')
  @ApiOkResponse({ description: 'The principal.', type: PrincipalModel })
  @ApiProblems('GET auth/me')
  @Get('me')
  me(@CurrentUser() principal: AuthPrincipal): { sub: string; sid: string } {
    return { sub: principal.sub, sid: principal.sid };
  }

  private cookieToken(req: Request): string | undefined {
    return cookieOf(req, refreshCookieName(this.options));
  }

  private deliver(tokens: IssuedTokens, via: 'cookie' | 'body', res: Response): TokenResponse {
    const out: TokenResponse = { accessToken: tokens.accessToken, tokenType: 'Bearer', expiresIn: tokens.expiresIn };
    if (via === 'body') {
      out.refreshToken = tokens.refreshToken;
      out.refreshExpiresIn = tokens.refreshExpiresIn;
    } else {
      res.cookie(refreshCookieName(this.options), tokens.refreshToken, refreshCookieOptions(this.options, tokens.refreshExpiresIn));
    }
    return out;
  }

  private clearCookie(res: Response): void {
    res.clearCookie(refreshCookieName(this.options), refreshCookieOptions(this.options));
  }

  private hasSessionCookie(req: Request): boolean {
    return cookieOf(req, sessionCookieName(this.options)) !== undefined;
  }

  /** The browser-session cookie, when the request carried one. */
  private clearSessionCookie(req: Request, res: Response): void {
    if (this.hasSessionCookie(req)) res.clearCookie(sessionCookieName(this.options), sessionCookieOptions(this.options));
  }
}
