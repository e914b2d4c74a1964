import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength, ValidateBy } from 'class-validator';

/**
 * The address shape the credentials port accepts at registration (it throws on anything else,
 * expecting the caller to have validated): trimmed and lower-cased, no whitespace, control or
 * format characters, one @, a local part of 1-64 characters, a domain of two or more non-empty
 * labels.
 */
function isEmailAddress(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const email = value.trim().normalize('NFKC').toLowerCase();
  if (email.length === 0 || email.length > 254 || /[\s\p{Cc}\p{Cf}]/u.test(email)) return false;
  const parts = email.split('@');
  if (parts.length !== 2 || parts[0].length === 0 || parts[0].length > 64) return false;
  const labels = parts[1].split('.');
  return labels.length >= 2 && labels.every((l) => l.length > 0);
}
const IsEmailAddress = (): PropertyDecorator =>
  ValidateBy({ name: 'isEmailAddress', validator: { validate: isEmailAddress, defaultMessage: () => 'email must be an email address' } });

// @ApiProperty only describes the fields for the OpenAPI document; class-validator's decorators validate.
const Email = (minLength = 1): PropertyDecorator => ApiProperty({ minLength, maxLength: 254, example: 'ada@example.com' });
const Password = (description?: string): PropertyDecorator => ApiProperty({ maxLength: 1024, format: 'password', description });
const Token = (description: string): PropertyDecorator => ApiProperty({ maxLength: 512, description });

export class RegisterDto {
  @Email(3) @IsString() @MinLength(3) @MaxLength(254) @IsEmailAddress() email!: string;
  // The policy itself (length, common passwords) lives in the credentials port; this only bounds work.
  @Password('Checked against the password policy (PASSWORD_REJECTED says why).') @IsString() @MaxLength(1024) password!: string;
}

export class LoginDto {
  @Email() @IsString() @MaxLength(254) email!: string;
  @Password() @IsString() @MaxLength(1024) password!: string;
  @ApiPropertyOptional({ enum: ['cookie', 'body'], default: 'cookie', description: 'Where the refresh token goes: an HttpOnly cookie, or the response body (native clients).' })
  @IsOptional()
  @IsIn(['cookie', 'body'])
  refreshTokenDelivery?: 'cookie' | 'body';
}

export class RefreshDto {
  @ApiPropertyOptional({ maxLength: 300, description: 'Absent: the refresh cookie is used.' }) @IsOptional() @IsString() @MaxLength(300) refreshToken?: string;
}

export class BrowserLoginDto {
  @Email() @IsString() @MaxLength(254) email!: string;
  @Password() @IsString() @MaxLength(1024) password!: string;
}

export class ChangePasswordDto {
  @Password() @IsString() @MaxLength(1024) currentPassword!: string;
  @Password('Checked against the password policy.') @IsString() @MaxLength(1024) newPassword!: string;
}

/** Forgot password, resend verification: the address is only counted and looked up, never echoed. */
export class EmailDto {
  @Email() @IsString() @MaxLength(254) @IsEmailAddress() email!: string;
}

export class RecoveryTokenDto {
  // Longer than any token we issue: refused by shape (RECOVERY_TOKEN_INVALID), bounded here.
  @Token('The token of the mailed link (its `token` query parameter).') @IsString() @MaxLength(512) token!: string;
}

export class ResetPasswordDto {
  @Token('The token of the mailed reset link.') @IsString() @MaxLength(512) token!: string;
  @Password('Checked against the password policy.') @IsString() @MaxLength(1024) newPassword!: string;
}
