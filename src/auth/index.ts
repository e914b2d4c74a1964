/**
 * The auth bounded context's only public face. Nothing outside src/auth imports deeper
 * (enforced by the lint rule in eslint.config.mjs).
 */
export { AuthModule } from './auth.module';
export { authOptionsFromConfig } from './auth.options';
export type { AuthModuleOptions } from './auth.options';
export { Public, OptionalAuth } from './decorators/public.decorator';
export { CurrentUser } from './decorators/current-user.decorator';
export { RequireRecentAuth, RecentAuthGuard } from './decorators/require-recent-auth.decorator';
export { AuthAudit, AUDIT_EVENTS, AUDIT_LOGGER } from './auth-audit.service';
export type { AuditEvent, AuditFields, AuditSource } from './auth-audit.service';
export type { AuthPrincipal } from './auth-principal.model';
export { AuthGuard } from './guards/auth.guard';
export { AuthReadiness } from './auth-readiness.service';
export type { ReadinessReport } from './auth-readiness.service';
export { AuthError, AUTH_ERROR_CODES } from './errors/auth-error.model';
export type { AuthErrorCode } from './errors/auth-error.model';
export { authValidationPipe } from './auth-validation.pipe';
export { CLOCK } from './clock.port';
export type { Clock } from './clock.port';
export { CREDENTIALS_PORT } from './credentials/credentials.port';
export type { CredentialsPort, VerifiedUser, RegisterResult, ChangePasswordResult } from './credentials/credentials.port';
