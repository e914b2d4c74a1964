import { Body, Controller, HttpCode, Post, Req, UseFilters, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import type { Request } from 'express';
import { AuthenticationGuard } from '../access/authentication.guard';
import { Public } from '../access/public.decorator';
import { AuthThrottlerGuard } from '../abuse/auth-throttler.guard';
import { requestOriginOf } from '../browser/request-origin';
import { AccountRecoveryService } from '../recovery/account-recovery.service';
import { authValidationPipe } from './auth-validation.pipe';
import { EmailDto, RecoveryTokenDto, ResetPasswordDto } from './auth.dto';
import { clientOf } from './client-context';
import { JsonBodyInterceptor } from './json-body.interceptor';
import { NoStore } from './no-store.decorator';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ApiAcceptedResponse, ApiBody, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AcceptedModel } from '../openapi/auth-openapi.models';
import { ApiProblems } from '../openapi/auth-openapi.problems';

/** The one answer to a request that names an address, whatever becomes of it. */
const ACCEPTED = Object.freeze({ status: 'accepted' as const });

/**
 * Email verification and password reset over HTTP. All public, all rate limited per client
 * address (AUTH_RATE_LIMIT_*); forgot and resend also per account (AUTH_RECOVERY_MAIL_*).
 */
@ApiTags('recovery')
@NoStore()
@UseFilters(ProblemDetailsFilter)
@UseInterceptors(JsonBodyInterceptor)
// Auth's routes carry their own guard: they are protected whether or not the host installs the global one.
@UseGuards(AuthenticationGuard)
@Public()
@Controller('auth')
export class RecoveryController {
  constructor(private readonly recovery: AccountRecoveryService) {}

  @ApiOperation({ summary: "Verify the account's address with the token of the mailed link" })
  @ApiBody({ type: RecoveryTokenDto })
  @ApiNoContentResponse({ description: 'Verified.' })
  @ApiProblems('POST auth/email/verify')
  @Post('email/verify')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(204)
  verifyEmail(@Body() body: RecoveryTokenDto, @Req() req: Request): Promise<void> {
    return this.recovery.verifyEmail(body.token, clientOf(req));
  }

  /** 202 whether the address is unknown, unverified or verified; a link only for an unverified one. */
  @ApiOperation({ summary: 'Mail a new verification link', description: 'The same answer whatever the address; a link only for an unverified account.' })
  @ApiBody({ type: EmailDto })
  @ApiAcceptedResponse({ description: 'Accepted (whatever the address).', type: AcceptedModel })
  @ApiProblems('POST auth/email/verify/resend')
  @Post('email/verify/resend')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(202)
  async resendVerification(@Body() body: EmailDto, @Req() req: Request): Promise<typeof ACCEPTED> {
    await this.recovery.resendVerification(body.email, requestOriginOf(req).selfOrigin, clientOf(req));
    return ACCEPTED;
  }

  /** 202, the same body and the same work for any address; a link only for an account's. */
  @ApiOperation({ summary: 'Mail a password-reset link', description: "The same answer and the same work for any address; a link only for an account's." })
  @ApiBody({ type: EmailDto })
  @ApiAcceptedResponse({ description: 'Accepted (whatever the address).', type: AcceptedModel })
  @ApiProblems('POST auth/password/forgot')
  @Post('password/forgot')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(202)
  async forgotPassword(@Body() body: EmailDto, @Req() req: Request): Promise<typeof ACCEPTED> {
    await this.recovery.forgotPassword(body.email, requestOriginOf(req).selfOrigin, clientOf(req));
    return ACCEPTED;
  }

  @ApiOperation({ summary: 'Set a new password with the token of the mailed link; ends every session of the user' })
  @ApiBody({ type: ResetPasswordDto })
  @ApiNoContentResponse({ description: 'Reset.' })
  @ApiProblems('POST auth/password/reset')
  @Post('password/reset')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(204)
  resetPassword(@Body() body: ResetPasswordDto, @Req() req: Request): Promise<void> {
    return this.recovery.resetPassword(body.token, body.newPassword, clientOf(req));
  }
}
