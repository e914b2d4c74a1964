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

/** The one answer to a request that names an address, whatever becomes of it. */
const ACCEPTED = Object.freeze({ status: 'accepted' as const });

/**
 * Email verification and password reset over HTTP. All public, all rate limited per client
 * address (AUTH_RATE_LIMIT_*); forgot and resend also per account (AUTH_RECOVERY_MAIL_*).
 */
@NoStore()
@UseFilters(ProblemDetailsFilter)
@UseInterceptors(JsonBodyInterceptor)
// Auth's routes carry their own guard: they are protected whether or not the host installs the global one.
@UseGuards(AuthenticationGuard)
@Public()
@Controller('auth')
export class RecoveryController {
  constructor(private readonly recovery: AccountRecoveryService) {}

  @Post('email/verify')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(204)
  verifyEmail(@Body() body: RecoveryTokenDto, @Req() req: Request): Promise<void> {
    return this.recovery.verifyEmail(body.token, clientOf(req));
  }

  /** 202 whether the address is unknown, unverified or verified; a link only for an unverified one. */
  @Post('email/verify/resend')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(202)
  async resendVerification(@Body() body: EmailDto, @Req() req: Request): Promise<typeof ACCEPTED> {
    await this.recovery.resendVerification(body.email, requestOriginOf(req).selfOrigin, clientOf(req));
    return ACCEPTED;
  }

  /** 202, the same body and the same work for any address; a link only for an account's. */
  @Post('password/forgot')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(202)
  async forgotPassword(@Body() body: EmailDto, @Req() req: Request): Promise<typeof ACCEPTED> {
    await this.recovery.forgotPassword(body.email, requestOriginOf(req).selfOrigin, clientOf(req));
    return ACCEPTED;
  }

  @Post('password/reset')
  @UseGuards(AuthThrottlerGuard)
  @UsePipes(authValidationPipe())
  @HttpCode(204)
  resetPassword(@Body() body: ResetPasswordDto, @Req() req: Request): Promise<void> {
    return this.recovery.resetPassword(body.token, body.newPassword, clientOf(req));
  }
}
