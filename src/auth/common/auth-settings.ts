import type { LoggerService } from '@nestjs/common';
import { dirname, join } from 'node:path';
import type { RedisClient, RedisNode } from '../redis/redis-connection.factory';
import type { Logger as PinoLogger } from 'pino';
import type { SigningAlgorithm } from '../tokens/signing-keys.loader';
import type { LockoutPolicy } from '../abuse/login-attempt-store.port';
import type { DeviceBindingMode } from '../sessions/device-binding';
import type { MailSender } from '../mail/mail.port';

export type CompromiseAction = 'REVOKE_SESSION' | 'REVOKE_ALL';

/** Where audit lines go: a pino logger (its stream, format and redaction), or any Nest LoggerService. */
export type AuditLogger = PinoLogger | LoggerService;

/** The settings every part of the context reads, defaults applied (AUTH_SETTINGS). */
export interface AuthSettings {
  readonly issuer: string;
  readonly audience: string;
  /** The `client_id` claim of issued access tokens (RFC 9068): this first-party client. Default: the issuer. */
  readonly clientId: string;
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
  /**
   * Signing keys. The verify-only ones (next, previous) are optional files: the keys script
   * creates and removes them during a rotation. Their default paths sit beside the private key.
   */
  readonly keys: {
    readonly privateKeyPath: string;
    readonly publicKeyPath: string;
    /** A staged key: published in the JWKS and verifying before it signs. Default `<key dir>/next-public.pem`. */
    readonly nextPublicKeyPath: string;
    /** Retired keys, verifying until their tokens have expired. Default `[<key dir>/previous-public.pem]`. */
    readonly previousPublicKeyPaths: readonly string[];
    readonly algorithm: SigningAlgorithm;
    readonly generateIfMissing: boolean;
  };
  /**
   * The MACs' own secret (refresh and session-cookie tags, CSRF, device binding, lockout keys,
   * audit address hash), apart from the signing keys. Default path `<key dir>/mac-secret`.
   */
  readonly macSecret: { readonly path: string; readonly generateIfMissing: boolean };
  /** Null, with no host client: in-memory stores (single process only). */
  readonly redisUrl: string | null;
  /**
   * Redis Cluster seed nodes, instead of `redisUrl`. Passwords and TLS for a cluster: pass the
   * host's own `Cluster` client as `redis`.
   */
  readonly redisClusterNodes: readonly RedisNode[] | null;
  /**
   * Replicas that must acknowledge a revocation (logout, revoke-all, a revoked session) before it
   * is: `WAIT n` after the write, 503 when fewer answer within a second. 0: no wait (a failover
   * in the replication window can undo a logout; see docs/architecture.md).
   */
  readonly redisWaitReplicas: number;
  /** A master found through Sentinel (the sentinels and the master's name), instead of `redisUrl`. */
  readonly redisSentinel: { readonly sentinels: readonly RedisNode[]; readonly name: string } | null;
  /**
   * With in-memory stores: a directory where their sessions and revocations are kept across
   * restarts (EMBEDDED_DATA_DIR). Null: kept nowhere, a restart forgets them.
   */
  readonly embeddedStateDir: string | null;
  /** Milliseconds the local revocation view may go without proof of completeness (a heartbeat answered, a reload) before the guard asks Redis. */
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
  /** Outgoing mail: verification and password-reset links. */
  readonly mail: {
    /** smtp:// or smtps:// (MAIL_URL). Null: each message is written to the log (refused in production). */
    readonly url: string | null;
    /** The From of every message (MAIL_FROM). */
    readonly from: string;
  };
  /** Email verification and password reset. Seconds. */
  readonly recovery: {
    /** How long a password-reset link works. */
    readonly resetTokenTtl: number;
    /** How long an email-verification link works. */
    readonly verifyTokenTtl: number;
    /** Reset or verification requests one account may receive (each kind), whoever asks, per window. */
    readonly mailLimit: { readonly windowSeconds: number; readonly max: number };
    /** Refuse login to an account whose address is not verified (checked after the password). */
    readonly requireVerifiedEmail: boolean;
  };
  /** RFC 7662 token introspection for sibling services: its clients (HTTP Basic), and requests per client and rate-limit window. Empty: the endpoint answers 401 to everyone. */
  readonly introspection: { readonly clients: ReadonlyArray<{ readonly name: string; readonly secret: string }>; readonly max: number };
}

type Partially<T> = { readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Partial<T[K]> : T[K] };

/**
 * What a host passes to AuthModule.forRoot / forRootAsync. Every field has a default; the one
 * thing the host must provide is CREDENTIALS_PORT, from a module in `imports`.
 */
export interface AuthModuleOptions extends Partially<AuthSettings> {
  /** The host's own ioredis client (a `Redis` or a `Cluster`), used instead of opening one from `redisUrl`. It stays the host's: auth never closes it. */
  readonly redis?: RedisClient;
  /** The host's logger for the audit trail; default: a pino logger on stdout. */
  readonly auditLogger?: AuditLogger;
  /** The host's own mail transport, used instead of one opened from `mail.url`. */
  readonly mailSender?: MailSender;
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
  const issuer = o.issuer ?? 'auth-domain';
  const keyDir = dirname(o.keys?.privateKeyPath ?? './keys/private.pem');
  return {
    issuer,
    audience: o.audience ?? 'api',
    clientId: o.clientId ?? issuer,
    accessTokenTtl: o.accessTokenTtl ?? 900,
    sessionIdleTtl: o.sessionIdleTtl ?? 604800,
    sessionAbsoluteTtl: o.sessionAbsoluteTtl ?? 604800,
    refreshReuseGrace: o.refreshReuseGrace ?? 10,
    compromiseAction: o.compromiseAction ?? 'REVOKE_ALL',
    cookie: { secure: true, sameSite: 'Lax', httpOnly: true, ...o.cookie },
    keys: {
      privateKeyPath: './keys/private.pem',
      publicKeyPath: './keys/public.pem',
      nextPublicKeyPath: join(keyDir, 'next-public.pem'),
      previousPublicKeyPaths: [join(keyDir, 'previous-public.pem')],
      algorithm: 'ES256',
      generateIfMissing: !production(),
      ...o.keys,
    },
    macSecret: { path: join(keyDir, 'mac-secret'), generateIfMissing: !production(), ...o.macSecret },
    redisUrl: o.redisUrl ?? null,
    redisClusterNodes: o.redisClusterNodes ?? null,
    redisSentinel: o.redisSentinel ?? null,
    redisWaitReplicas: o.redisWaitReplicas ?? 0,
    embeddedStateDir: o.embeddedStateDir ?? null,
    revocationMaxStaleness: o.revocationMaxStaleness ?? 2000,
    verifiedTokenCacheSize: o.verifiedTokenCacheSize ?? 10000,
    browser: { idleTtl: 1800, absoluteTtl: 43200, touchInterval: 60, publicOrigins: [], ...o.browser },
    rateLimit: { windowSeconds: 300, max: 10, ...o.rateLimit },
    lockout: { ...DEFAULT_LOCKOUT_POLICY, ...o.lockout },
    deviceBinding: o.deviceBinding ?? 'ua',
    bindingMismatchAction: o.bindingMismatchAction ?? 'revoke',
    reauthMaxAge: o.reauthMaxAge ?? 300,
    mail: { url: null, from: defaultMailFrom(o.browser?.publicOrigins), ...o.mail },
    recovery: {
      resetTokenTtl: 1800,
      verifyTokenTtl: 86400,
      requireVerifiedEmail: false,
      ...o.recovery,
      mailLimit: { windowSeconds: 3600, max: 3, ...o.recovery?.mailLimit },
    },
    introspection: { clients: [], max: 100000, ...o.introspection },
  };
}

/** no-reply at the host of the first public origin (localhost without one). */
export function defaultMailFrom(publicOrigins: readonly string[] | undefined): string {
  return `no-reply@${publicOrigins?.[0] ? new URL(publicOrigins[0]).hostname : 'localhost'}`;
}

/** The settings token: AuthSettings resolved from the module options. */
export const AUTH_SETTINGS = Symbol('AUTH_SETTINGS');
