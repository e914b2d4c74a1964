import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { AppConfig } from '../config';
import type { SigningAlgorithm } from './tokens/signing-keys.loader';
import type { LockoutPolicy } from './abuse/login-attempt-store.port';
import type { DeviceBindingMode } from './sessions/device-binding';

export type CompromiseAction = 'REVOKE_SESSION' | 'REVOKE_ALL';

/** Everything the auth context needs, independent of where it came from (env, tests, a host app). */
export interface AuthModuleOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Seconds. */
  readonly accessTokenTtl: number;
  /** Seconds a session may sit unused (sliding). */
  readonly sessionIdleTtl: number;
  /** Seconds a session may live at all. */
  readonly sessionAbsoluteTtl: number;
  /**
   * @deprecated No effect: the previous refresh token yields the same successor for as long as
   * that successor is unused (DESIGN invariant 3), with or without a grace. Still accepted.
   */
  readonly refreshReuseGrace: number;
  readonly compromiseAction: CompromiseAction;
  readonly cookie: { readonly secure: boolean; readonly sameSite: 'Strict' | 'Lax' | 'None'; readonly httpOnly: boolean };
  readonly keys: {
    readonly privateKeyPath: string;
    readonly publicKeyPath: string;
    readonly previousPublicKeyPaths: readonly string[];
    readonly algorithm: SigningAlgorithm;
    readonly generateIfMissing: boolean;
  };
  /** Null: in-memory stores (single process only). */
  readonly redisUrl: string | null;
  /** Milliseconds the local revocation view may go without proof of completeness (a heartbeat answered, a reload) before the guard asks Redis. */
  readonly revocationMaxStaleness: number;
  /** Entries in the verified-token cache; 0 disables it. */
  readonly verifiedTokenCacheSize: number;
  /**
   * Sign a refresh's access token on a helper thread while its store round trip is in flight
   * (AUTH_SIGNING_THREAD); off: on the event loop. Either way the same token, never a wait.
   */
  readonly signingThread: boolean;
  /** The browser profile (cookie sessions). Seconds. */
  readonly browser: {
    readonly idleTtl: number;
    readonly absoluteTtl: number;
    /** A session's lastUsed is written at most once per this interval. */
    readonly touchInterval: number;
    /** Origins an unsafe cookie request or a browser login may come from; empty: the request's own (Host). */
    readonly publicOrigins: readonly string[];
  };
  /** Per client address and route (login, register, refresh, password change): `max` requests per `windowSeconds`. */
  readonly rateLimit: { readonly windowSeconds: number; readonly max: number };
  readonly lockout: LockoutPolicy;
  readonly deviceBinding: DeviceBindingMode;
  readonly bindingMismatchAction: 'reject' | 'revoke';
  /** Seconds: @RequireRecentAuth() routes need an auth_time at most this old (unless they say otherwise). */
  readonly reauthMaxAge: number;
}

const SECOND = 1000;
const HOUR = 3600 * SECOND;

/**
 * Progressive lockout, documented in the README: 5 free failures per account+address, then
 * 2 s doubling; 10 per account from all addresses, then 2 s doubling (skipped by an address that
 * signed in successfully in the last 30 days); every delay capped at 1 h; 100 consecutive
 * failures stop all attempts on the account until 24 h after the last one.
 */
export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = Object.freeze({
  sourceFree: 5,
  sourceBaseDelayMs: 2 * SECOND,
  accountFree: 10,
  accountBaseDelayMs: 2 * SECOND,
  maxDelayMs: HOUR,
  accountHardCap: 100,
  decayMs: 24 * HOUR,
  trustedSourceMs: 30 * 24 * HOUR,
});

export const {
  ConfigurableModuleClass: AuthModuleBase,
  MODULE_OPTIONS_TOKEN: AUTH_OPTIONS,
  OPTIONS_TYPE: AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>().setClassMethodName('forRoot').build();

export function authOptionsFromConfig(c: AppConfig): AuthModuleOptions {
  return {
    issuer: c.jwt.issuer,
    audience: c.jwt.audience,
    accessTokenTtl: c.accessTokenTtl,
    sessionIdleTtl: c.refreshTokenTtl,
    sessionAbsoluteTtl: c.refreshStorageTtl,
    refreshReuseGrace: c.refreshReuseGrace,
    compromiseAction: c.compromiseAction,
    cookie: c.cookie,
    keys: {
      privateKeyPath: c.jwt.privateKeyPath,
      publicKeyPath: c.jwt.publicKeyPath,
      previousPublicKeyPaths: c.jwt.previousPublicKeyPaths,
      algorithm: c.jwt.algorithm,
      generateIfMissing: c.jwt.generateDevKeys,
    },
    redisUrl: c.redisUrl,
    revocationMaxStaleness: c.revocationMaxStaleness,
    verifiedTokenCacheSize: 10000,
    signingThread: c.signingThread,
    browser: { ...c.browserSession, publicOrigins: c.publicOrigins },
    rateLimit: c.rateLimit,
    lockout: DEFAULT_LOCKOUT_POLICY,
    deviceBinding: c.deviceBinding,
    bindingMismatchAction: c.bindingMismatchAction,
    reauthMaxAge: c.reauthMaxAge,
  };
}
