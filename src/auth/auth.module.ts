import { DynamicModule, Inject, Logger, Module, OnApplicationShutdown, Optional, Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type Redis from 'ioredis';
import { AUTH_ASYNC_OPTIONS_TYPE, AUTH_OPTIONS, AUTH_OPTIONS_TYPE, AuthModuleBase, AuthModuleOptions } from './auth.module-definition';
import { AuthAudit } from './observability/auth-audit.service';
import { AuthController } from './http/auth.controller';
import { AuthReadiness } from './observability/auth-readiness.service';
import { ATTEMPT_KEYER, SessionLifecycleService, DEVICE_BINDER, REFRESH_CODEC } from './sessions/session-lifecycle.service';
import { AttemptKeyer } from './abuse/attempt-keys';
import { AuthThrottlerGuard } from './abuse/auth-throttler.guard';
import { MemoryLoginAttemptStore } from './abuse/login-attempt-store.memory-adapter';
import { RedisLoginAttemptStore } from './abuse/login-attempt-store.redis-adapter';
import { LOGIN_ATTEMPT_STORE } from './abuse/login-attempt-store.port';
import { MemoryRateLimitStore } from './abuse/rate-limit-store.memory-adapter';
import { RedisRateLimitStore } from './abuse/rate-limit-store.redis-adapter';
import { RATE_LIMIT_STORE } from './abuse/rate-limit-store.port';
import { AuthMetrics } from './observability/auth-metrics.service';
import { RecentAuthGuard } from './access/require-recent-auth.decorator';
import { MetricsController } from './observability/metrics.controller';
import { DeviceBinder } from './sessions/device-binding';
import { RequestAuthenticator } from './access/request-authenticator.service';
import { BrowserController } from './browser/browser.controller';
import { BROWSER_SESSION_CODEC, BROWSER_SESSION_TAG, BrowserSessionService } from './browser/browser-session.service';
import { SignInPageController } from './browser/sign-in-page.controller';
import { CLOCK, systemClock } from './common/clock.port';
import { createEmbeddedStores, EMBEDDED_STORES, type EmbeddedStores } from './embedded/embedded-stores.factory';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { AuthenticationGuard } from './access/authentication.guard';
import { JwksController } from './http/jwks.controller';
import { connectQuietly, createRedisConnection, REDIS_CONNECTION } from './redis/redis-connection.factory';
import { RedisRevocationStore } from './revocation/revocation-store.redis-adapter';
import { RevocationView } from './revocation/revocation-view.service';
import { REVOCATION_STORE } from './revocation/revocation-store.port';
import { RedisSessionStore } from './sessions/session-store.redis-adapter';
import { SESSION_STORE } from './sessions/session-store.port';
import { SessionsController } from './http/sessions.controller';
import { AccessTokenService } from './tokens/access-token.service';
import { RefreshTokenCodec } from './tokens/refresh-token.codec';
import { loadSigningKeys, SigningKeySet } from './tokens/signing-keys.loader';
import { SIGNING_KEYS } from './tokens/tokens.constants';

const logger = new Logger('AuthModule');


/** Closes the Redis connection the module opened. */
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Optional() @Inject(REDIS_CONNECTION) private readonly redis: Redis | null) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }
}

const providers: Provider[] = [
  { provide: CLOCK, useValue: systemClock },
  {
    provide: SIGNING_KEYS,
    inject: [AUTH_OPTIONS],
    useFactory: (o: AuthModuleOptions): SigningKeySet => {
      const { keys, generated } = loadSigningKeys(o.keys);
      if (generated) logger.warn(`created development signing keys at ${o.keys.privateKeyPath} (never used in production)`);
      return keys;
    },
  },
  { provide: REFRESH_CODEC, inject: [SIGNING_KEYS], useFactory: (k: SigningKeySet) => new RefreshTokenCodec(k.macSeed) },
  { provide: ATTEMPT_KEYER, inject: [SIGNING_KEYS], useFactory: (k: SigningKeySet) => new AttemptKeyer(k.macSeed) },
  {
    provide: DEVICE_BINDER,
    inject: [SIGNING_KEYS, AUTH_OPTIONS],
    useFactory: (k: SigningKeySet, o: AuthModuleOptions) => new DeviceBinder(k.macSeed, o.deviceBinding),
  },
  {
    provide: BROWSER_SESSION_CODEC,
    inject: [SIGNING_KEYS],
    useFactory: (k: SigningKeySet) => new RefreshTokenCodec(k.macSeed, BROWSER_SESSION_TAG),
  },
  {
    provide: REDIS_CONNECTION,
    inject: [AUTH_OPTIONS],
    useFactory: async (o: AuthModuleOptions): Promise<Redis | null> => {
      if (!o.redisUrl) {
        logger.warn('REDIS_URL is not set: sessions, revocations and counters are in memory (single process only)');
        return null;
      }
      const client = createRedisConnection(o.redisUrl, 'auth');
      if (!(await connectQuietly(client))) logger.error('Redis is unreachable; state-changing endpoints answer 503 until it is back');
      return client;
    },
  },
  {
    provide: EMBEDDED_STORES,
    inject: [REDIS_CONNECTION, AUTH_OPTIONS],
    useFactory: (redis: Redis | null, o: AuthModuleOptions): EmbeddedStores | null => {
      if (redis) return null;
      const stores = createEmbeddedStores(o.embeddedStateDir ?? null);
      if (stores.file) logger.log(`sessions and revocations are kept in ${stores.file.path} across restarts`);
      return stores;
    },
  },
  {
    provide: SESSION_STORE,
    inject: [REDIS_CONNECTION, EMBEDDED_STORES],
    useFactory: (redis: Redis | null, embedded: EmbeddedStores | null) => (redis ? new RedisSessionStore(redis) : embedded!.sessions),
  },
  {
    provide: REVOCATION_STORE,
    inject: [REDIS_CONNECTION, AUTH_OPTIONS, EMBEDDED_STORES],
    useFactory: (redis: Redis | null, o: AuthModuleOptions, embedded: EmbeddedStores | null) =>
      redis && o.redisUrl
        ? new RedisRevocationStore(redis, () => createRedisConnection(o.redisUrl as string, 'auth-revocations'))
        : embedded!.revocations,
  },
  {
    provide: LOGIN_ATTEMPT_STORE,
    inject: [REDIS_CONNECTION],
    useFactory: (redis: Redis | null) => (redis ? new RedisLoginAttemptStore(redis) : new MemoryLoginAttemptStore()),
  },
  {
    provide: RATE_LIMIT_STORE,
    inject: [REDIS_CONNECTION],
    useFactory: (redis: Redis | null) => (redis ? new RedisRateLimitStore(redis) : new MemoryRateLimitStore()),
  },
  RedisLifecycle,
  AuthMetrics,
  AuthAudit,
  AuthThrottlerGuard,
  RecentAuthGuard,
  AccessTokenService,
  RevocationView,
  RequestAuthenticator,
  SessionLifecycleService,
  BrowserSessionService,
  AuthReadiness,
  { provide: APP_GUARD, useClass: AuthenticationGuard },
  { provide: APP_FILTER, useClass: ProblemDetailsFilter },
];

/**
 * The auth bounded context. Register once, at the root:
 *   AuthModule.forRootAsync({ imports: [UsersModule, LoggingModule], inject: [APP_CONFIG], useFactory: authOptionsFromConfig })
 * The imported modules must export CREDENTIALS_PORT and may export AUDIT_LOGGER (a pino logger for
 * the audit trail; default: stdout). Installs the global guard (every route protected unless
 * @Public()) and the problem+json filter.
 */
@Module({})
export class AuthModule extends AuthModuleBase {
  static override forRoot(options: typeof AUTH_OPTIONS_TYPE): DynamicModule {
    return AuthModule.extend(super.forRoot(options));
  }

  static override forRootAsync(options: typeof AUTH_ASYNC_OPTIONS_TYPE): DynamicModule {
    return AuthModule.extend(super.forRootAsync(options));
  }

  private static extend(base: DynamicModule): DynamicModule {
    return {
      ...base,
      global: true,
      controllers: [AuthController, SessionsController, JwksController, BrowserController, SignInPageController, MetricsController],
      providers: [...(base.providers ?? []), ...providers],
      // RecentAuthGuard (and what it needs) so a feature module's @RequireRecentAuth() resolves.
      exports: [AuthReadiness, RequestAuthenticator, AUTH_OPTIONS, RecentAuthGuard, AuthAudit, AuthMetrics, CLOCK],
    };
  }
}
