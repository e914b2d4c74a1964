import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class RegisterDto {
  @IsString() @MinLength(3) @MaxLength(254) email!: string;
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
