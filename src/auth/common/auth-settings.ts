import type { LoggerService } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import type { SigningAlgorithm } from '../tokens/signing-keys.loader';
import type { LockoutPolicy } from '../abuse/login-attempt-store.port';
import type { DeviceBindingMode } from '../sessions/device-binding';

export type CompromiseAction = 'REVOKE_SESSION' | 'REVOKE_ALL';

/** Where audit lines go: a pino logger (its stream, format and redaction), or any Nest LoggerService. */
export type AuditLogger = PinoLogger | LoggerService;

/** The settings every part of the context reads, defaults applied (AUTH_SETTINGS). */
export interface AuthSettings {
  readonly issuer: string;
  readonly audience: string;
  /** Seconds. */
  readonly accessTokenTtl: number;
  /** Seconds a session may sit unused (sliding). */
  readonly sessionIdleTtl: number;
  /** Seconds a session may live at all. */
  readonly sessionAbsoluteTtl: number;
  /** Seconds during which concurrent refreshes with the previous token all get its successor. */
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
  /** Null, with no host client: in-memory stores (single process only). */
  readonly redisUrl: string | null;
  /** Milliseconds the local revocation view may be disconnected before the guard asks Redis. */
  readonly revocationMaxStaleness: number;
  /** Entries in the verified-token cache; 0 disables it. */
  readonly verifiedTokenCacheSize: number;
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

type Partially<T> = { readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Partial<T[K]> : T[K] };

/**
 * What a host passes to AuthModule.forRoot / forRootAsync. Every field has a default; the one
 * thing the host must provide is CREDENTIALS_PORT, from a module in `imports`.
 */
export interface AuthModuleOptions extends Partially<AuthSettings> {
  /** The host's own ioredis client, used instead of opening one from `redisUrl`. It stays the host's: auth never closes it. */
  readonly redis?: Redis;
  /** The host's logger for the audit trail; default: a pino logger on stdout. */
  readonly auditLogger?: AuditLogger;
}

const SECOND = 1000;
const HOUR = 3600 * SECOND;

/**
 * Progressive lockout: 5 free failures per account+address, then 2 s doubling; 10 per account
 * from all addresses, then 2 s doubling (skipped by an address that signed in successfully in the
 * last 30 days); every delay capped at 1 h; 100 consecutive failures stop all attempts on the
 * account until 24 h after the last one.
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

const production = (): boolean => process.env.NODE_ENV === 'production';

/** The defaults: the same values as the environment's (see .env.example). */
export function resolveAuthSettings(o: AuthModuleOptions): AuthSettings {
  return {
    issuer: o.issuer ?? 'auth-domain',
    audience: o.audience ?? 'api',
    accessTokenTtl: o.accessTokenTtl ?? 900,
    sessionIdleTtl: o.sessionIdleTtl ?? 604800,
    sessionAbsoluteTtl: o.sessionAbsoluteTtl ?? 604800,
    refreshReuseGrace: o.refreshReuseGrace ?? 10,
    compromiseAction: o.compromiseAction ?? 'REVOKE_ALL',
    cookie: { secure: true, sameSite: 'Lax', httpOnly: true, ...o.cookie },
    keys: {
      privateKeyPath: './keys/private.pem',
      publicKeyPath: './keys/public.pem',
      previousPublicKeyPaths: [],
      algorithm: 'ES256',
      generateIfMissing: !production(),
      ...o.keys,
    },
    redisUrl: o.redisUrl ?? null,
    revocationMaxStaleness: o.revocationMaxStaleness ?? 5000,
    verifiedTokenCacheSize: o.verifiedTokenCacheSize ?? 10000,
    browser: { idleTtl: 1800, absoluteTtl: 43200, touchInterval: 60, publicOrigins: [], ...o.browser },
    rateLimit: { windowSeconds: 300, max: 10, ...o.rateLimit },
    lockout: { ...DEFAULT_LOCKOUT_POLICY, ...o.lockout },
    deviceBinding: o.deviceBinding ?? 'ua',
    bindingMismatchAction: o.bindingMismatchAction ?? 'revoke',
    reauthMaxAge: o.reauthMaxAge ?? 300,
  };
}

/** The settings token: AuthSettings resolved from the module options. */
export const AUTH_SETTINGS = Symbol('AUTH_SETTINGS');
