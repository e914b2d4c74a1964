import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RedisNode } from '../auth';

/**
 * The environment schema. Every variable is parsed here once, at boot; a bad value stops the boot
 * with the variable's name and what it accepts. Names follow the reference template's, plus what
 * the project adds; .env.example lists them all (test/docs checks it against this schema).
 */
export type JwtAlgorithm = 'ES256' | 'RS256' | 'PS256';
export type SameSite = 'Strict' | 'Lax' | 'None';
export type DeviceBinding = 'off' | 'ua' | 'ua+subnet';
export type CompromiseAction = 'REVOKE_SESSION' | 'REVOKE_ALL';
export type BindingMismatchAction = 'reject' | 'revoke';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly trustProxy: string | false;
  readonly jwt: {
    readonly privateKeyPath: string;
    readonly publicKeyPath: string;
    /** A staged signing key (rotation): published and verifying, not yet signing. Optional file. */
    readonly nextPublicKeyPath: string;
    /** Verify-only public keys of retired signing keys, kept until their tokens have expired. Optional files. */
    readonly previousPublicKeyPaths: readonly string[];
    readonly algorithm: JwtAlgorithm;
    readonly issuer: string;
    readonly audience: string;
    /** The client_id claim of access tokens (RFC 9068). */
    readonly clientId: string;
    /** Create a key pair and a MAC secret at their paths when they are missing (never in production). */
    readonly generateDevKeys: boolean;
  };
  /** The MAC secret's file (refresh and cookie tags, CSRF, device binding, lockout and audit keys). */
  readonly macSecretPath: string;
  /** Seconds. */
  readonly accessTokenTtl: number;
  /** Seconds: a refresh token (and an API session) unused for this long is dead (idle timeout). */
  readonly refreshTokenTtl: number;
  /** Seconds: absolute lifetime of a session, whatever its activity. */
  readonly refreshStorageTtl: number;
  /** Seconds during which the immediately previous refresh token returns the same successor. */
  readonly refreshReuseGrace: number;
  readonly cookie: { readonly secure: boolean; readonly sameSite: SameSite; readonly httpOnly: boolean };
  readonly rateLimit: { readonly windowSeconds: number; readonly max: number };
  readonly deviceBinding: DeviceBinding;
  /** On a refresh from another device: refuse it, or refuse it and end the session. */
  readonly bindingMismatchAction: BindingMismatchAction;
  /** Seconds since the login (auth_time) within which sensitive operations are allowed. */
  readonly reauthMaxAge: number;
  readonly compromiseAction: CompromiseAction;
  readonly redisUrl: string | null;
  /** REDIS_CLUSTER_NODES: a Redis Cluster's seed nodes, instead of REDIS_URL. */
  readonly redisClusterNodes: readonly RedisNode[] | null;
  /** AUTH_REDIS_WAIT_REPLICAS: replicas that must acknowledge a revocation (WAIT); 0 = none. */
  readonly redisWaitReplicas: number;
  /** REDIS_SENTINELS + REDIS_SENTINEL_NAME: a master found through Sentinel, instead of REDIS_URL. */
  readonly redisSentinel: { readonly sentinels: readonly RedisNode[]; readonly name: string } | null;
  readonly databaseUrl: string | null;
  /** Where the embedded (no DATABASE_URL) user database keeps its files; ':memory:' keeps none. */
  readonly embeddedDataDir: string;
  /** Milliseconds the local revocation view may go without Redis before the guard asks Redis. */
  readonly revocationMaxStaleness: number;
  /** The browser profile: cookie sessions (seconds). */
  readonly browserSession: {
    /** A browser session unused this long is dead (NIST 800-63B AAL2: 30 min). */
    readonly idleTtl: number;
    /** A browser session lives at most this long (AAL2: 12 h). */
    readonly absoluteTtl: number;
    /** lastUsed is written at most once per this many seconds per session. */
    readonly touchInterval: number;
  };
  /**
   * Origins (scheme://host[:port]) the browser pages are served from: an unsafe cookie request or
   * a browser login must come from one of them. Empty: the request's own origin (its Host).
   */
  readonly publicOrigins: readonly string[];
  /** Outgoing mail. url null: the development log adapter (production refuses it). */
  readonly mail: { readonly url: string | null; readonly from: string | null };
  /** Email verification and password reset (seconds). */
  readonly recovery: {
    readonly resetTokenTtl: number;
    readonly verifyTokenTtl: number;
    readonly mailLimit: { readonly windowSeconds: number; readonly max: number };
    readonly requireVerifiedEmail: boolean;
  };
  /** AUTH_INTROSPECTION_CLIENTS (name:secret,…) and AUTH_INTROSPECTION_MAX. */
  readonly introspection: { readonly clients: ReadonlyArray<{ readonly name: string; readonly secret: string }>; readonly max: number };
  /** AUTH_OPENAPI: serve /openapi.json and /docs (default: on outside production). */
  readonly openApi: boolean;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, readonly expectation: string, received: string | undefined) {
    super(
      `Invalid configuration: ${variable} ${expectation}` +
        (received === undefined ? '' : ` (got ${JSON.stringify(received.slice(0, 80))})`),
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`, v);
  }
  return Number(v);
}

function bool(env: Env, name: string, def: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new ConfigError(name, 'must be true or false', v);
}

/** "host:port,host:port,…" (an IPv6 host in brackets). */
function nodes(env: Env, name: string): RedisNode[] | null {
  const v = raw(env, name);
  if (v === undefined) return null;
  return v.split(',').map((item) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new ConfigError(name, 'must be a comma-separated list of host:port', item.trim());
    return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  });
}

/** At most one way to reach Redis; Sentinel needs both its variables. */
function redisTarget(env: Env): Pick<AppConfig, 'redisUrl' | 'redisClusterNodes' | 'redisSentinel'> {
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const redisClusterNodes = nodes(env, 'REDIS_CLUSTER_NODES');
  const sentinels = nodes(env, 'REDIS_SENTINELS');
  const sentinelName = raw(env, 'REDIS_SENTINEL_NAME');
  if (redisClusterNodes && redisUrl) throw new ConfigError('REDIS_CLUSTER_NODES', 'cannot be set with REDIS_URL (choose one)', undefined);
  if (sentinels && (redisUrl || redisClusterNodes)) {
    throw new ConfigError('REDIS_SENTINELS', 'cannot be set with REDIS_URL or REDIS_CLUSTER_NODES (choose one)', undefined);
  }
  if (sentinels && !sentinelName) throw new ConfigError('REDIS_SENTINEL_NAME', "is required with REDIS_SENTINELS (the master's name)", undefined);
  if (sentinelName && !sentinels) throw new ConfigError('REDIS_SENTINELS', 'is required with REDIS_SENTINEL_NAME', undefined);
  return { redisUrl, redisClusterNodes, redisSentinel: sentinels ? { sentinels, name: sentinelName! } : null };
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[], caseInsensitive = false): T {
  const v = raw(env, name);
  if (v === undefined) return def;
  const hit = allowed.find((a) => (caseInsensitive ? a.toLowerCase() === v.toLowerCase() : a === v));
  if (!hit) throw new ConfigError(name, `must be one of ${allowed.join(', ')}`, v);
  return hit;
}

/** `Name <local@domain>` or `local@domain`, one line. */
function mailbox(env: Env, name: string): string | null {
  const v = raw(env, name);
  if (v === undefined) return null;
  if (!/^([^<>\r\n]*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+)$/.test(v)) {
    throw new ConfigError(name, 'must be an address like no-reply@example.com or "Example <no-reply@example.com>"', v);
  }
  return v;
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const v = raw(env, name);
  if (v === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, `must be a URL (${protocols.map((p) => p + '//…').join(' or ')})`, undefined);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}`, parsed.protocol);
  }
  return v;
}

function origins(env: Env, name: string): string[] {
  const v = raw(env, name);
  if (v === undefined) return [];
  return v.split(',').map((item) => {
    const text = item.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      parsed = undefined;
    }
    const bare = parsed && parsed.pathname === '/' && !parsed.search && !parsed.hash && !parsed.username && !parsed.password && !text.endsWith('?');
    if (!parsed || !bare || !['http:', 'https:'].includes(parsed.protocol) || /\/\/[^/]*\/./.test(text)) {
      throw new ConfigError(name, 'must be a comma-separated list of origins like https://app.example.com (scheme, host, optional port; no path)', text);
    }
    return parsed.origin;
  });
}

/**
 * Where the key files are, and the settings the keys script needs (scripts/keys.ts reads this
 * without the rest of the configuration). The verify-only keys and the MAC secret default to
 * files beside the private key.
 */
export function keyFiles(env: Env = process.env): {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  readonly nextPublicKeyPath: string;
  readonly previousPublicKeyPaths: readonly string[];
  readonly macSecretPath: string;
  readonly algorithm: JwtAlgorithm;
  readonly accessTokenTtl: number;
} {
  const privateKeyPath = raw(env, 'JWT_PRIVATE_KEY_PATH') ?? './keys/private.pem';
  const keyDir = dirname(privateKeyPath);
  const previous = raw(env, 'JWT_PREVIOUS_PUBLIC_KEY_PATHS');
  return {
    privateKeyPath,
    publicKeyPath: raw(env, 'JWT_PUBLIC_KEY_PATH') ?? './keys/public.pem',
    nextPublicKeyPath: raw(env, 'JWT_NEXT_PUBLIC_KEY_PATH') ?? join(keyDir, 'next-public.pem'),
    previousPublicKeyPaths:
      previous === undefined
        ? [join(keyDir, 'previous-public.pem')]
        : previous
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    macSecretPath: raw(env, 'AUTH_MAC_SECRET_PATH') ?? join(keyDir, 'mac-secret'),
    algorithm: oneOf<JwtAlgorithm>(env, 'JWT_ALGORITHM', 'ES256', ['ES256', 'RS256', 'PS256']),
    // DESIGN: access tokens live 5–15 minutes; revocation entries are sized by this bound.
    accessTokenTtl: int(env, 'ACCESS_TOKEN_TTL', 900, 300, 900),
  };
}

/** RFC 9068 client_id: printable ASCII without spaces, default the issuer. */
function clientId(env: Env, issuer: string): string {
  const v = raw(env, 'AUTH_CLIENT_ID');
  if (v === undefined) return issuer;
  if (!/^[\x21-\x7e]{1,128}$/.test(v)) throw new ConfigError('AUTH_CLIENT_ID', 'must be 1 to 128 printable ASCII characters without spaces', v);
  return v;
}

/** `name:secret,…`: names of letters, digits, `._-`; secrets of at least 32 characters, no comma. */
function introspectionClients(env: Env, name: string): Array<{ name: string; secret: string }> {
  const v = raw(env, name);
  if (v === undefined) return [];
  const seen = new Set<string>();
  return v.split(',').map((item) => {
    const i = item.indexOf(':');
    const client = i > 0 ? item.slice(0, i).trim() : '';
    const secret = i > 0 ? item.slice(i + 1).trim() : '';
    // The received value is never echoed: it holds secrets.
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(client) || secret.length < 32 || seen.has(client)) {
      throw new ConfigError(name, 'must be a comma-separated list of name:secret (distinct names of letters, digits, . _ -; secrets of at least 32 characters)', undefined);
    }
    seen.add(client);
    return { name: client, secret };
  });
}

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = raw(env, 'NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';
  const refreshTokenTtl = int(env, 'REFRESH_TOKEN_TTL', 604800, 60, 31536000);
  const refreshStorageTtl = int(env, 'REFRESH_STORAGE_TTL', 604800, 60, 31536000);
  if (refreshStorageTtl < refreshTokenTtl) {
    throw new ConfigError('REFRESH_STORAGE_TTL', `must be at least REFRESH_TOKEN_TTL (${refreshTokenTtl})`, String(refreshStorageTtl));
  }
  const browserIdleTtl = int(env, 'AUTH_BROWSER_IDLE_TTL', 1800, 60, 86400);
  const browserAbsoluteTtl = int(env, 'AUTH_BROWSER_ABSOLUTE_TTL', 43200, 60, 2592000);
  if (browserAbsoluteTtl < browserIdleTtl) {
    throw new ConfigError('AUTH_BROWSER_ABSOLUTE_TTL', `must be at least AUTH_BROWSER_IDLE_TTL (${browserIdleTtl})`, String(browserAbsoluteTtl));
  }
  const browserTouchInterval = int(env, 'AUTH_BROWSER_TOUCH_INTERVAL', 60, 0, 3600);
  if (browserTouchInterval * 2 > browserIdleTtl) {
    throw new ConfigError('AUTH_BROWSER_TOUCH_INTERVAL', `must be at most half of AUTH_BROWSER_IDLE_TTL (${browserIdleTtl})`, String(browserTouchInterval));
  }
  const trustProxyRaw = raw(env, 'TRUST_PROXY');
  if (trustProxyRaw !== undefined && !/^(false|loopback|linklocal|uniquelocal|\d+|[0-9a-fA-F.:/, ]+)$/.test(trustProxyRaw)) {
    throw new ConfigError('TRUST_PROXY', 'must be false, a hop count, loopback/linklocal/uniquelocal or a list of IPs/CIDRs', trustProxyRaw);
  }
  const issuer = raw(env, 'JWT_ISSUER') ?? 'auth-domain';
  const { macSecretPath, accessTokenTtl, ...jwtFiles } = keyFiles(env);
  const config: AppConfig = {
    nodeEnv,
    production,
    host: raw(env, 'HOST') ?? (production ? '0.0.0.0' : '127.0.0.1'),
    port: int(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf<LogLevel>(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    trustProxy: trustProxyRaw === undefined || trustProxyRaw === 'false' ? false : trustProxyRaw,
    jwt: { ...jwtFiles, issuer, audience: raw(env, 'JWT_AUDIENCE') ?? 'api', clientId: clientId(env, issuer), generateDevKeys: !production },
    macSecretPath,
    accessTokenTtl,
    refreshTokenTtl,
    refreshStorageTtl,
    refreshReuseGrace: int(env, 'REFRESH_REUSE_GRACE', 10, 0, 120),
    cookie: {
      secure: bool(env, 'AUTH_COOKIE_SECURE', true),
      sameSite: oneOf<SameSite>(env, 'AUTH_COOKIE_SAME_SITE', 'Lax', ['Strict', 'Lax', 'None'], true),
      httpOnly: bool(env, 'AUTH_COOKIE_HTTP_ONLY', true),
    },
    rateLimit: {
      windowSeconds: int(env, 'AUTH_RATE_LIMIT_WINDOW', 300, 1, 86400),
      max: int(env, 'AUTH_RATE_LIMIT_MAX', 10, 1, 100000),
    },
    deviceBinding: oneOf<DeviceBinding>(env, 'AUTH_DEVICE_BINDING', 'ua', ['off', 'ua', 'ua+subnet']),
    bindingMismatchAction: oneOf<BindingMismatchAction>(env, 'AUTH_BINDING_MISMATCH_ACTION', 'revoke', ['reject', 'revoke']),
    reauthMaxAge: int(env, 'AUTH_REAUTH_MAX_AGE', 300, 30, 86400),
    compromiseAction: oneOf<CompromiseAction>(env, 'AUTH_COMPROMISE_ACTION', 'REVOKE_ALL', ['REVOKE_SESSION', 'REVOKE_ALL']),
    ...redisTarget(env),
    redisWaitReplicas: int(env, 'AUTH_REDIS_WAIT_REPLICAS', 0, 0, 5),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    embeddedDataDir: raw(env, 'EMBEDDED_DATA_DIR') ?? './data',
    revocationMaxStaleness: int(env, 'AUTH_REVOCATION_MAX_STALENESS', 2000, 0, 600000),
    browserSession: { idleTtl: browserIdleTtl, absoluteTtl: browserAbsoluteTtl, touchInterval: browserTouchInterval },
    publicOrigins: origins(env, 'AUTH_PUBLIC_ORIGIN'),
    mail: { url: url(env, 'MAIL_URL', ['smtp:', 'smtps:']), from: mailbox(env, 'MAIL_FROM') },
    recovery: {
      resetTokenTtl: int(env, 'AUTH_RESET_TOKEN_TTL', 1800, 300, 86400),
      verifyTokenTtl: int(env, 'AUTH_VERIFY_TOKEN_TTL', 86400, 600, 604800),
      mailLimit: {
        windowSeconds: int(env, 'AUTH_RECOVERY_MAIL_WINDOW', 3600, 60, 86400),
        max: int(env, 'AUTH_RECOVERY_MAIL_MAX', 3, 1, 100),
      },
      requireVerifiedEmail: bool(env, 'AUTH_REQUIRE_VERIFIED_EMAIL', false),
    },
    introspection: { clients: introspectionClients(env, 'AUTH_INTROSPECTION_CLIENTS'), max: int(env, 'AUTH_INTROSPECTION_MAX', 100000, 1, 10000000) },
    openApi: oneOf(env, 'AUTH_OPENAPI', production ? 'off' : 'on', ['on', 'off']) === 'on',
  };
  if (production) assertProductionSafe(config);
  return Object.freeze(config);
}

/** Production refuses embedded stores, insecure cookies and a missing MAC secret, with a one-line reason. */
function assertProductionSafe(c: AppConfig): void {
  if (!c.redisUrl && !c.redisClusterNodes && !c.redisSentinel) {
    throw new ConfigError('REDIS_URL', 'is required when NODE_ENV=production, or REDIS_CLUSTER_NODES or REDIS_SENTINELS (in-memory stores are single-process only)', undefined);
  }
  if (!c.databaseUrl) throw new ConfigError('DATABASE_URL', 'is required when NODE_ENV=production (the embedded user database is for development)', undefined);
  if (!existsSync(c.macSecretPath)) {
    // Never generated in production: a secret made up on one instance would not match the others'.
    throw new ConfigError('AUTH_MAC_SECRET_PATH', 'must name an existing file when NODE_ENV=production (create it with `npm run keys -- generate`)', c.macSecretPath);
  }
  if (!c.cookie.secure) throw new ConfigError('AUTH_COOKIE_SECURE', 'must be true when NODE_ENV=production', 'false');
  if (!c.cookie.httpOnly) throw new ConfigError('AUTH_COOKIE_HTTP_ONLY', 'must be true when NODE_ENV=production', 'false');
  if (c.cookie.sameSite === 'None') throw new ConfigError('AUTH_COOKIE_SAME_SITE', 'must be Lax or Strict when NODE_ENV=production', 'None');
  const plain = c.publicOrigins.find((o) => o.startsWith('http:'));
  if (plain) throw new ConfigError('AUTH_PUBLIC_ORIGIN', 'must use https when NODE_ENV=production', plain);
  // Links in mails are built from it: the request's Host would let anyone aim a reset link elsewhere.
  if (c.publicOrigins.length === 0) throw new ConfigError('AUTH_PUBLIC_ORIGIN', 'is required when NODE_ENV=production (mailed links point there)', undefined);
  if (!c.mail.url) throw new ConfigError('MAIL_URL', 'is required when NODE_ENV=production (verification and reset links are mailed through it)', undefined);
}
