import { Inject, Logger, Module, OnApplicationShutdown, Optional, Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AUTH_SETTINGS, AuthModuleOptions, AuthSettings, resolveAuthSettings } from './common/auth-settings';
import { AUTH_MODULE_OPTIONS, AuthModuleBase } from './auth.module-definition';
import { AUDIT_LOGGER, AuthAudit } from './observability/auth-audit.service';
import { AuthController } from './http/auth.controller';
import { AuthReadiness } from './observability/auth-readiness.service';
import { ATTEMPT_KEYER, SessionLifecycleService, DEVICE_BINDER, REFRESH_CODEC } from './sessions/session-lifecycle.service';
import { SessionAdminService } from './sessions/session-admin.service';
import { AttemptKeyer } from './abuse/attempt-keys';
import { AuthThrottlerGuard, CredentialVolumeGuard } from './abuse/auth-throttler.guard';
import { FailedAttemptLimiter } from './abuse/failed-attempt.limiter';
import { MemoryLoginAttemptStore } from './abuse/login-attempt-store.memory-adapter';
import { RedisLoginAttemptStore } from './abuse/login-attempt-store.redis-adapter';
import { LOGIN_ATTEMPT_STORE } from './abuse/login-attempt-store.port';
import { MemoryRateLimitStore } from './abuse/rate-limit-store.memory-adapter';
import { RedisRateLimitStore } from './abuse/rate-limit-store.redis-adapter';
import { RATE_LIMIT_STORE } from './abuse/rate-limit-store.port';
import { AuthMetrics } from './observability/auth-metrics.service';
import { RecentAuthGuard } from './access/require-recent-auth.decorator';
import { ClaimsGuard } from './access/require-claims.decorator';
import { MetricsController } from './observability/metrics.controller';
import { DeviceBinder } from './sessions/device-binding';
import { RequestAuthenticator } from './access/request-authenticator.service';
import { BrowserController } from './browser/browser.controller';
import { BROWSER_SESSION_CODEC, BROWSER_SESSION_TAG, BrowserSessionService } from './browser/browser-session.service';
import { SignInPageController } from './browser/sign-in-page.controller';
import { recoveryProviders } from './recovery/recovery.providers';
import { RecoveryController } from './http/recovery.controller';
import { CLOCK, systemClock } from './common/clock.port';
import { createEmbeddedStores, EMBEDDED_STORES, type EmbeddedStores } from './embedded/embedded-stores.factory';
import { AuthErrorFilter } from './http/problem-details.filter';
import { AuthenticationGuard } from './access/authentication.guard';
import { AccessTokenStrategy } from './access/access-token.strategy';
import { JwksController } from './http/jwks.controller';
import { IntrospectionController } from './http/introspection.controller';
import { IntrospectionService } from './introspection/introspection.service';
import { MethodNotAllowedController } from './http/method-not-allowed.controller';
import { connectQuietly, createRedisConnection, duplicateRedisConnection, REDIS_CONNECTION, type RedisClient, redisTargetOf, subscriberConnection } from './redis/redis-connection.factory';
import { RedisRevocationStore } from './revocation/revocation-store.redis-adapter';
import { RevocationView } from './revocation/revocation-view.service';
import { REVOCATION_STORE } from './revocation/revocation-store.port';
import { RedisSessionStore } from './sessions/session-store.redis-adapter';
import { SESSION_STORE } from './sessions/session-store.port';
import { SessionsController } from './http/sessions.controller';
import { AccessTokenService } from './tokens/access-token.service';
import { RefreshTokenCodec } from './tokens/refresh-token.codec';
import { loadMacSecret, MacSecret } from './tokens/mac-secret.loader';
import { loadSigningKeys, SigningKeySet } from './tokens/signing-keys.loader';
import { MAC_SECRET, SIGNING_KEYS } from './tokens/tokens.constants';

const logger = new Logger('AuthModule');

/** Closes the Redis connection the module opened (never the host's own client). */
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Optional() @Inject(REDIS_CONNECTION) private readonly redis: RedisClient | null) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }
}

const providers: Provider[] = [
  { provide: AUTH_SETTINGS, inject: [AUTH_MODULE_OPTIONS], useFactory: resolveAuthSettings },
  { provide: CLOCK, useValue: systemClock },
  { provide: AUDIT_LOGGER, inject: [AUTH_MODULE_OPTIONS], useFactory: (o: AuthModuleOptions) => o.auditLogger ?? null },
  {
    provide: SIGNING_KEYS,
    inject: [AUTH_SETTINGS],
    useFactory: (o: AuthSettings): SigningKeySet => {
      const { keys, generated } = loadSigningKeys(o.keys);
      if (generated) logger.warn(`created development signing keys at ${o.keys.privateKeyPath} (never used in production)`);
      logger.log(`access-token keys: ${[...keys.verifiers.values()].map((k) => `${k.role} ${k.kid}`).join(', ')}`);
      return keys;
    },
  },
  {
    provide: MAC_SECRET,
    inject: [AUTH_SETTINGS],
    useFactory: (o: AuthSettings): MacSecret => {
      const { secret, generated } = loadMacSecret(o.macSecret);
      if (generated) logger.warn(`created a development MAC secret at ${o.macSecret.path} (never used in production)`);
      return secret;
    },
  },
  { provide: REFRESH_CODEC, inject: [MAC_SECRET], useFactory: (m: MacSecret) => new RefreshTokenCodec(m) },
  { provide: ATTEMPT_KEYER, inject: [MAC_SECRET], useFactory: (m: MacSecret) => new AttemptKeyer(m) },
  {
    provide: DEVICE_BINDER,
    inject: [MAC_SECRET, AUTH_SETTINGS],
    useFactory: (m: MacSecret, o: AuthSettings) => new DeviceBinder(m, o.deviceBinding),
  },
  {
    provide: BROWSER_SESSION_CODEC,
    inject: [MAC_SECRET],
    useFactory: (m: MacSecret) => new RefreshTokenCodec(m, BROWSER_SESSION_TAG),
  },
  {
    // Auth's own command connection: opened from REDIS_URL, or duplicated from the host's client
    // (same server and credentials, auth's fail-fast settings); either way auth's to close.
    provide: REDIS_CONNECTION,
    inject: [AUTH_MODULE_OPTIONS, AUTH_SETTINGS],
    useFactory: async (options: AuthModuleOptions, o: AuthSettings): Promise<RedisClient | null> => {
      const target = redisTargetOf(o);
      if (!options.redis && !target) {
        logger.warn('no Redis configured: sessions, revocations and counters are in memory (single process only)');
        return null;
      }
      const client = options.redis ? duplicateRedisConnection(options.redis, 'auth') : createRedisConnection(target!, 'auth');
      if (!(await connectQuietly(client))) logger.error('Redis is unreachable; state-changing endpoints answer 503 until it is back');
      return client;
    },
  },
  {
    provide: EMBEDDED_STORES,
    inject: [REDIS_CONNECTION, AUTH_SETTINGS],
    useFactory: (redis: RedisClient | null, o: AuthSettings): EmbeddedStores | null => {
      if (redis) return null;
      const stores = createEmbeddedStores(o.embeddedStateDir);
      if (stores.file) logger.log(`sessions and revocations are kept in ${stores.file.path} across restarts`);
      return stores;
    },
  },
  {
    provide: SESSION_STORE,
    inject: [REDIS_CONNECTION, EMBEDDED_STORES, AUTH_SETTINGS],
    useFactory: (redis: RedisClient | null, embedded: EmbeddedStores | null, o: AuthSettings) =>
      redis ? new RedisSessionStore(redis, 'auth', o.redisWaitReplicas) : embedded!.sessions,
  },
  {
    provide: REVOCATION_STORE,
    inject: [REDIS_CONNECTION, EMBEDDED_STORES, AUTH_SETTINGS],
    useFactory: (redis: RedisClient | null, embedded: EmbeddedStores | null, o: AuthSettings) =>
      redis ? new RedisRevocationStore(redis, () => subscriberConnection(redis, 'auth-revocations'), 'auth', o.redisWaitReplicas) : embedded!.revocations,
  },
  {
    provide: LOGIN_ATTEMPT_STORE,
    inject: [REDIS_CONNECTION],
    useFactory: (redis: RedisClient | null) => (redis ? new RedisLoginAttemptStore(redis) : new MemoryLoginAttemptStore()),
  },
  {
    provide: RATE_LIMIT_STORE,
    inject: [REDIS_CONNECTION],
    useFactory: (redis: RedisClient | null) => (redis ? new RedisRateLimitStore(redis) : new MemoryRateLimitStore()),
  },
  RedisLifecycle,
  AuthMetrics,
  AuthAudit,
  AuthThrottlerGuard,
  CredentialVolumeGuard,
  FailedAttemptLimiter,
  IntrospectionService,
  AuthenticationGuard,
  RecentAuthGuard,
  ClaimsGuard,
  AccessTokenService,
  RevocationView,
  RequestAuthenticator,
  SessionLifecycleService,
  SessionAdminService,
  BrowserSessionService,
  AuthReadiness,
  AccessTokenStrategy,
  ...recoveryProviders,
  // Only AuthError, which only auth throws: the host's own exceptions keep their filters and format.
  { provide: APP_FILTER, useClass: AuthErrorFilter },
];

/**
 * The auth bounded context. Register once, at the root:
 *   AuthModule.forRoot({ imports: [UsersModule], ... })  or  AuthModule.forRootAsync({ imports, inject, useFactory })
 * An imported module must provide CREDENTIALS_PORT. By default the module is global and installs
 * AuthenticationGuard for every route (`globalGuard: false` leaves routes to @UseGuards).
 * Auth's own routes carry their own body policy, cookie reading, headers and problem+json errors.
 */
@Module({
  // MethodNotAllowedController last: it answers only what the others did not match.
  controllers: [AuthController, SessionsController, JwksController, BrowserController, SignInPageController, MetricsController, RecoveryController, IntrospectionController, MethodNotAllowedController],
  providers,
  // What a host's @UseGuards(AuthenticationGuard), @RequireRecentAuth() and health checks need.
  exports: [AUTH_SETTINGS, SessionAdminService, AuthReadiness, RequestAuthenticator, AuthenticationGuard, RecentAuthGuard, ClaimsGuard, AuthAudit, AuthMetrics, CLOCK],
})
export class AuthModule extends AuthModuleBase {}
