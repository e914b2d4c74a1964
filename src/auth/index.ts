/**
 * The auth bounded context's only public face. Nothing outside src/auth imports deeper
 * (enforced by the lint rule in eslint.config.mjs).
 */
export { AuthModule } from './auth.module';
export type { AuthModuleExtras } from './auth.module-definition';
export { DEFAULT_LOCKOUT_POLICY } from './common/auth-settings';
export type { AuthModuleOptions, AuthSettings, AuditLogger } from './common/auth-settings';
export type { RedisClient, RedisNode } from './redis/redis-connection.factory';
export { Public, OptionalAuth } from './access/public.decorator';
export { CurrentUser } from './access/current-user.decorator';
export { RequireRecentAuth, RecentAuthGuard } from './access/require-recent-auth.decorator';
export { RequireClaims, RequireRole, ClaimsGuard } from './access/require-claims.decorator';
export type { ClaimsRequirement } from './access/require-claims.decorator';
export { AuthenticationGuard } from './access/authentication.guard';
export { SessionAdminService } from './sessions/session-admin.service';
export type { SessionSummary } from './sessions/session-lifecycle.service';
export type { AuthPrincipal } from './access/auth-principal.model';
export { AuthAudit, AUDIT_EVENTS } from './observability/auth-audit.service';
export type { AuditEvent, AuditFields, AuditSource } from './observability/auth-audit.service';
export { AuthReadiness } from './observability/auth-readiness.service';
export type { ReadinessReport } from './observability/auth-readiness.service';
export { AuthError, AUTH_ERROR_CODES } from './errors/auth-error.model';
export { buildAuthOpenApiDocument } from './openapi/auth-openapi.document';
export { AUTH_ROUTES } from './http/method-not-allowed.controller';
export type { AuthOpenApiOptions } from './openapi/auth-openapi.document';
export type { AuthErrorCode } from './errors/auth-error.model';
export { CLOCK } from './common/clock.port';
export type { Clock } from './common/clock.port';
export { CREDENTIALS_PORT } from './credentials/credentials.port';
export type {
  CredentialsPort,
  VerifiedUser,
  AccountView,
  RegisterResult,
  ChangePasswordResult,
  NewPasswordResult,
} from './credentials/credentials.port';
export type { UserClaims, ClaimValue } from './credentials/user-claims.validator';
