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

export class RegisterDto {
  @IsString() @MinLength(3) @MaxLength(254) @IsEmailAddress() email!: string;
  // The policy itself (length, common passwords) lives in the credentials port; this only bounds work.
  @IsString() @MaxLength(1024) password!: string;
}

export class LoginDto {
  @IsString() @MaxLength(254) email!: string;
  @IsString() @MaxLength(1024) password!: string;
  @IsOptional() @IsIn(['cookie', 'body']) refreshTokenDelivery?: 'cookie' | 'body';
}

export class RefreshDto {
  @IsOptional() @IsString() @MaxLength(300) refreshToken?: string;
}

export class BrowserLoginDto {
  @IsString() @MaxLength(254) email!: string;
  @IsString() @MaxLength(1024) password!: string;
}

export class ChangePasswordDto {
  @IsString() @MaxLength(1024) currentPassword!: string;
  @IsString() @MaxLength(1024) newPassword!: string;
}

/** Forgot password, resend verification: the address is only counted and looked up, never echoed. */
export class EmailDto {
  @IsString() @MaxLength(254) @IsEmailAddress() email!: string;
}

export class RecoveryTokenDto {
  // Longer than any token we issue: refused by shape (RECOVERY_TOKEN_INVALID), bounded here.
  @IsString() @MaxLength(512) token!: string;
}

export class ResetPasswordDto {
  @IsString() @MaxLength(512) token!: string;
  @IsString() @MaxLength(1024) newPassword!: string;
}
