import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, loadConfig } from './app-config.schema';

/** The variable a ConfigError names, or 'OK' when the config loads. */
function refusal(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
    return 'OK';
  } catch (e) {
    if (e instanceof ConfigError) return e.variable;
    throw e;
  }
}

const macSecretPath = join(mkdtempSync(join(tmpdir(), 'config-spec-')), 'mac-secret');
writeFileSync(macSecretPath, 'not read by loadConfig, only required to exist\n');
afterAll(() => rmSync(dirname(macSecretPath), { recursive: true, force: true }));

const PRODUCTION = {
  NODE_ENV: 'production',
  AUTH_PUBLIC_ORIGIN: 'https://app.example.com',
  MAIL_URL: 'smtps://mailer:secret@smtp.example.com:465',
  REDIS_URL: 'redis://redis.internal:6379',
  DATABASE_URL: 'postgres://app@db.internal/app',
  AUTH_MAC_SECRET_PATH: macSecretPath,
};

describe('loadConfig', () => {
  it('has working defaults for development, with an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      production: false,
      port: 3000,
      accessTokenTtl: 900,
      refreshTokenTtl: 604800,
      refreshStorageTtl: 604800,
      refreshReuseGrace: 10,
      cookie: { secure: true, sameSite: 'Lax', httpOnly: true },
      compromiseAction: 'REVOKE_ALL',
      redisUrl: null,
      redisClusterNodes: null,
      redisSentinel: null,
      redisWaitReplicas: 0,
      jwt: {
        algorithm: 'ES256',
        generateDevKeys: true,
        privateKeyPath: './keys/private.pem',
        publicKeyPath: './keys/public.pem',
        nextPublicKeyPath: 'keys/next-public.pem',
        previousPublicKeyPaths: ['keys/previous-public.pem'],
        clientId: 'auth-domain',
      },
      macSecretPath: 'keys/mac-secret',
      rateLimit: { windowSeconds: 300, max: 10 },
      deviceBinding: 'ua',
      bindingMismatchAction: 'revoke',
      reauthMaxAge: 300,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('never reads process.env when given an environment', () => {
    const saved = process.env.PORT;
    process.env.PORT = 'not-a-port';
    try {
      expect(loadConfig({}).port).toBe(3000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('reads the reference template\u2019s variables', () => {
    const c = loadConfig({
      PORT: '8080',
      JWT_PRIVATE_KEY_PATH: '/keys/p.pem',
      JWT_PUBLIC_KEY_PATH: '/keys/q.pem',
      JWT_ALGORITHM: 'PS256',
      ACCESS_TOKEN_TTL: '600',
      REFRESH_TOKEN_TTL: '3600',
      REFRESH_STORAGE_TTL: '86400',
      REFRESH_REUSE_GRACE: '0',
      AUTH_COOKIE_SECURE: 'false',
      AUTH_COOKIE_SAME_SITE: 'strict',
      AUTH_COOKIE_HTTP_ONLY: '1',
      AUTH_RATE_LIMIT_WINDOW: '60',
      AUTH_RATE_LIMIT_MAX: '5',
      AUTH_DEVICE_BINDING: 'off',
      AUTH_COMPROMISE_ACTION: 'REVOKE_SESSION',
      REDIS_URL: 'rediss://cache:6380/2',
      LOG_LEVEL: 'debug',
      JWT_PREVIOUS_PUBLIC_KEY_PATHS: ' /keys/old1.pem, /keys/old2.pem ,',
      JWT_NEXT_PUBLIC_KEY_PATH: '/keys/staged.pem',
      AUTH_MAC_SECRET_PATH: '/secrets/mac',
      AUTH_CLIENT_ID: 'web',
    });
    expect(c).toMatchObject({
      port: 8080,
      jwt: {
        privateKeyPath: '/keys/p.pem',
        publicKeyPath: '/keys/q.pem',
        algorithm: 'PS256',
        previousPublicKeyPaths: ['/keys/old1.pem', '/keys/old2.pem'],
        nextPublicKeyPath: '/keys/staged.pem',
        clientId: 'web',
      },
      macSecretPath: '/secrets/mac',
      accessTokenTtl: 600,
      refreshTokenTtl: 3600,
      refreshStorageTtl: 86400,
      refreshReuseGrace: 0,
      cookie: { secure: false, sameSite: 'Strict', httpOnly: true },
      rateLimit: { windowSeconds: 60, max: 5 },
      deviceBinding: 'off',
      compromiseAction: 'REVOKE_SESSION',
      redisUrl: 'rediss://cache:6380/2',
      logLevel: 'debug',
    });
  });

  it('puts the verify-only keys and the MAC secret beside the private key unless told otherwise; client_id defaults to the issuer', () => {
    const c = loadConfig({ JWT_PRIVATE_KEY_PATH: '/run/keys/signing.pem', JWT_ISSUER: 'https://auth.example.com' });
    expect(c.jwt).toMatchObject({
      nextPublicKeyPath: '/run/keys/next-public.pem',
      previousPublicKeyPaths: ['/run/keys/previous-public.pem'],
      clientId: 'https://auth.example.com',
    });
    expect(c.macSecretPath).toBe('/run/keys/mac-secret');
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '  ', REDIS_URL: '' })).toMatchObject({ port: 3000, redisUrl: null });
  });

  describe('Redis: one server, a cluster or Sentinel', () => {
    it('reads a cluster\'s seed nodes (IPv6 in brackets)', () => {
      const c = loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' });
      expect(c).toMatchObject({ redisUrl: null, redisSentinel: null });
      expect(c.redisClusterNodes).toEqual([
        { host: 'redis-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ]);
    });

    it('reads the sentinels and the master\'s name', () => {
      const c = loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26380', REDIS_SENTINEL_NAME: 'auth-master' });
      expect(c.redisSentinel).toEqual({ sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], name: 'auth-master' });
      expect(c.redisClusterNodes).toBeNull();
    });

    it.each<[string, Record<string, string>, string]>([
      ['a cluster and a URL', { REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, 'REDIS_CLUSTER_NODES'],
      ['sentinels and a URL', { REDIS_URL: 'redis://a:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
      ['sentinels and a cluster', { REDIS_CLUSTER_NODES: 'b:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
      ['sentinels without a master name', { REDIS_SENTINELS: 's:26379' }, 'REDIS_SENTINEL_NAME'],
      ['a master name without sentinels', { REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
      ['a node without a port', { REDIS_CLUSTER_NODES: 'b:7000,c' }, 'REDIS_CLUSTER_NODES'],
      ['a node as a URL', { REDIS_CLUSTER_NODES: 'redis://b:7000' }, 'REDIS_CLUSTER_NODES'],
      ['port 0', { REDIS_SENTINELS: 's:0', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
      ['port 70000', { REDIS_CLUSTER_NODES: 'b:70000' }, 'REDIS_CLUSTER_NODES'],
      ['an empty item', { REDIS_CLUSTER_NODES: 'b:7000,,c:7001' }, 'REDIS_CLUSTER_NODES'],
    ])('%s stops the boot', (_what, env, variable) => {
      expect(refusal(env)).toBe(variable);
    });

    it('production accepts a cluster or Sentinel instead of REDIS_URL', () => {
      expect(refusal({ ...PRODUCTION, REDIS_URL: undefined, REDIS_CLUSTER_NODES: 'b:7000' })).toBe('OK');
      expect(refusal({ ...PRODUCTION, REDIS_URL: undefined, REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' })).toBe('OK');
    });
  });

  describe('a bad value stops the boot and names its variable', () => {
    it.each([
      ['PORT', 'eighty'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '80.5'],
      ['JWT_ALGORITHM', 'HS256'],
      ['JWT_ALGORITHM', 'none'],
      ['JWT_ALGORITHM', 'es256'],
      ['ACCESS_TOKEN_TTL', '0'],
      ['ACCESS_TOKEN_TTL', '1e3'],
      ['ACCESS_TOKEN_TTL', '86400'],
      ['ACCESS_TOKEN_TTL', '299'],
      ['ACCESS_TOKEN_TTL', '901'],
      ['REFRESH_TOKEN_TTL', 'week'],
      ['REFRESH_TOKEN_TTL', '10'],
      ['REFRESH_STORAGE_TTL', '99999999999'],
      ['REFRESH_REUSE_GRACE', '-5'],
      ['REFRESH_REUSE_GRACE', '3600'],
      ['AUTH_COOKIE_SECURE', 'yes'],
      ['AUTH_COOKIE_HTTP_ONLY', 'TRUE!'],
      ['AUTH_COOKIE_SAME_SITE', 'Sometimes'],
      ['AUTH_RATE_LIMIT_WINDOW', '0'],
      ['AUTH_RATE_LIMIT_MAX', 'many'],
      ['AUTH_DEVICE_BINDING', 'ip'],
      ['AUTH_COMPROMISE_ACTION', 'IGNORE'],
      ['MAIL_URL', 'http://smtp.example.com'],
      ['MAIL_URL', 'smtp.example.com:587'],
      ['MAIL_FROM', 'nobody'],
      ['MAIL_FROM', 'a@b.example\r\nBcc: victim@example.com'],
      ['AUTH_RESET_TOKEN_TTL', '60'],
      ['AUTH_RESET_TOKEN_TTL', 'half an hour'],
      ['AUTH_VERIFY_TOKEN_TTL', '9999999'],
      ['AUTH_RECOVERY_MAIL_WINDOW', '0'],
      ['AUTH_RECOVERY_MAIL_MAX', '0'],
      ['AUTH_REQUIRE_VERIFIED_EMAIL', 'yes'],
      ['AUTH_REDIS_WAIT_REPLICAS', '6'],
      ['AUTH_REDIS_WAIT_REPLICAS', 'one'],
      ['REDIS_URL', 'localhost:6379'],
      ['REDIS_URL', 'http://cache:6379'],
      ['DATABASE_URL', 'mysql://db/app'],
      ['LOG_LEVEL', 'verbose'],
      ['TRUST_PROXY', 'everyone'],
      ['AUTH_REVOCATION_MAX_STALENESS', 'soon'],
      ['AUTH_BINDING_MISMATCH_ACTION', 'ignore'],
      ['AUTH_REAUTH_MAX_AGE', '5'],
      ['AUTH_REAUTH_MAX_AGE', 'recent'],
      ['AUTH_CLIENT_ID', 'my client'],
      ['AUTH_CLIENT_ID', 'c'.repeat(129)],
    ])('%s=%j', (variable, value) => {
      expect(refusal({ [variable]: value })).toBe(variable);
    });

    it('does not echo a malformed URL (it may hold a password)', () => {
      try {
        loadConfig({ REDIS_URL: 'redis//:s3cret@cache' });
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        expect((e as ConfigError).variable).toBe('REDIS_URL');
        expect((e as Error).message).not.toContain('s3cret');
      }
    });
  });

  it('REFRESH_STORAGE_TTL (absolute) below REFRESH_TOKEN_TTL (idle) is refused; equal is fine', () => {
    expect(refusal({ REFRESH_TOKEN_TTL: '7200', REFRESH_STORAGE_TTL: '3600' })).toBe('REFRESH_STORAGE_TTL');
    expect(refusal({ REFRESH_TOKEN_TTL: '3600', REFRESH_STORAGE_TTL: '3600' })).toBe('OK');
    // Only the idle timeout given: the default absolute lifetime (7 days) is below it.
    expect(refusal({ REFRESH_TOKEN_TTL: '1209600' })).toBe('REFRESH_STORAGE_TTL');
  });

  it('AUTH_INTROSPECTION_CLIENTS: name:secret pairs, secrets of 32+ characters, distinct names; a refusal never echoes a secret', () => {
    const secret = 's'.repeat(32);
    expect(loadConfig({}).introspection).toEqual({ clients: [], max: 100000 });
    expect(loadConfig({ AUTH_INTROSPECTION_CLIENTS: `orders:${secret}, billing.v2:${secret}x` }).introspection.clients).toEqual([
      { name: 'orders', secret },
      { name: 'billing.v2', secret: `${secret}x` },
    ]);
    for (const bad of [`orders:${'s'.repeat(31)}`, `:${secret}`, secret, `or ders:${secret}`, `a:${secret},a:${secret}`]) {
      expect(refusal({ AUTH_INTROSPECTION_CLIENTS: bad })).toBe('AUTH_INTROSPECTION_CLIENTS');
      try {
        loadConfig({ AUTH_INTROSPECTION_CLIENTS: bad });
      } catch (e) {
        expect((e as Error).message).not.toContain('sssss');
      }
    }
  });

  describe('mail and account recovery', () => {
    it('default to the log adapter, 30-minute reset links, 24-hour verification links, 3 mails per account per hour', () => {
      expect(loadConfig({})).toMatchObject({
        mail: { url: null, from: null },
        recovery: { resetTokenTtl: 1800, verifyTokenTtl: 86400, mailLimit: { windowSeconds: 3600, max: 3 }, requireVerifiedEmail: false },
      });
    });

    it('reads MAIL_*, AUTH_RESET_TOKEN_TTL, AUTH_VERIFY_TOKEN_TTL, AUTH_RECOVERY_MAIL_* and AUTH_REQUIRE_VERIFIED_EMAIL', () => {
      const c = loadConfig({
        MAIL_URL: 'smtp://relay.internal:587',
        MAIL_FROM: 'Example <no-reply@example.com>',
        AUTH_RESET_TOKEN_TTL: '900',
        AUTH_VERIFY_TOKEN_TTL: '3600',
        AUTH_RECOVERY_MAIL_WINDOW: '600',
        AUTH_RECOVERY_MAIL_MAX: '5',
        AUTH_REQUIRE_VERIFIED_EMAIL: 'true',
      });
      expect(c.mail).toEqual({ url: 'smtp://relay.internal:587', from: 'Example <no-reply@example.com>' });
      expect(c.recovery).toEqual({ resetTokenTtl: 900, verifyTokenTtl: 3600, mailLimit: { windowSeconds: 600, max: 5 }, requireVerifiedEmail: true });
    });

    it('does not echo a malformed MAIL_URL (it may hold a password)', () => {
      expect(() => loadConfig({ MAIL_URL: 'smtp//mailer:s3cret@relay' })).toThrow(ConfigError);
      expect(() => loadConfig({ MAIL_URL: 'smtp//mailer:s3cret@relay' })).not.toThrow(/s3cret/);
    });
  });

  describe('browser sessions', () => {
    it('default to NIST 800-63B AAL2 timeouts (30 min idle, 12 h absolute), lastUsed written at most once a minute', () => {
      expect(loadConfig({}).browserSession).toEqual({ idleTtl: 1800, absoluteTtl: 43200, touchInterval: 60 });
      expect(loadConfig({}).publicOrigins).toEqual([]);
    });

    it('reads AUTH_BROWSER_* and AUTH_PUBLIC_ORIGIN (normalised to origins)', () => {
      const c = loadConfig({
        AUTH_BROWSER_IDLE_TTL: '900',
        AUTH_BROWSER_ABSOLUTE_TTL: '3600',
        AUTH_BROWSER_TOUCH_INTERVAL: '30',
        AUTH_PUBLIC_ORIGIN: 'https://App.example.com/, http://localhost:3000',
      });
      expect(c.browserSession).toEqual({ idleTtl: 900, absoluteTtl: 3600, touchInterval: 30 });
      expect(c.publicOrigins).toEqual(['https://app.example.com', 'http://localhost:3000']);
    });

    it.each<[Record<string, string>, string]>([
      [{ AUTH_BROWSER_IDLE_TTL: '3600', AUTH_BROWSER_ABSOLUTE_TTL: '1800' }, 'AUTH_BROWSER_ABSOLUTE_TTL'],
      [{ AUTH_BROWSER_IDLE_TTL: '30' }, 'AUTH_BROWSER_IDLE_TTL'],
      [{ AUTH_BROWSER_IDLE_TTL: '100', AUTH_BROWSER_TOUCH_INTERVAL: '60' }, 'AUTH_BROWSER_TOUCH_INTERVAL'],
      [{ AUTH_PUBLIC_ORIGIN: 'https://app.example.com/login' }, 'AUTH_PUBLIC_ORIGIN'],
      [{ AUTH_PUBLIC_ORIGIN: 'ftp://app.example.com' }, 'AUTH_PUBLIC_ORIGIN'],
      [{ AUTH_PUBLIC_ORIGIN: '*' }, 'AUTH_PUBLIC_ORIGIN'],
    ])('refuses %j', (env, variable) => {
      expect(refusal(env)).toBe(variable);
    });
  });

  it('AUTH_OPENAPI: on by default outside production, off in production unless turned on', () => {
    expect(loadConfig({}).openApi).toBe(true);
    expect(loadConfig({ AUTH_OPENAPI: 'off' }).openApi).toBe(false);
    expect(loadConfig(PRODUCTION).openApi).toBe(false);
    expect(loadConfig({ ...PRODUCTION, AUTH_OPENAPI: 'on' }).openApi).toBe(true);
    expect(refusal({ AUTH_OPENAPI: 'yes' })).toBe('AUTH_OPENAPI');
  });

  describe('production refuses insecure or single-process set-ups', () => {
    it('loads a complete, secure production environment, without development keys', () => {
      const c = loadConfig(PRODUCTION);
      expect(c.production).toBe(true);
      expect(c.jwt.generateDevKeys).toBe(false);
    });

    it.each<[string, Record<string, string | undefined>, string]>([
      ['no REDIS_URL (in-memory stores)', { REDIS_URL: undefined }, 'REDIS_URL'],
      ['no DATABASE_URL (embedded database)', { DATABASE_URL: undefined }, 'DATABASE_URL'],
      ['no AUTH_PUBLIC_ORIGIN (mailed links would follow the Host header)', { AUTH_PUBLIC_ORIGIN: undefined }, 'AUTH_PUBLIC_ORIGIN'],
      ['no MAIL_URL (mail written to the log)', { MAIL_URL: undefined }, 'MAIL_URL'],
      ['AUTH_COOKIE_SECURE=false', { AUTH_COOKIE_SECURE: 'false' }, 'AUTH_COOKIE_SECURE'],
      ['AUTH_COOKIE_HTTP_ONLY=false', { AUTH_COOKIE_HTTP_ONLY: '0' }, 'AUTH_COOKIE_HTTP_ONLY'],
      ['AUTH_COOKIE_SAME_SITE=None', { AUTH_COOKIE_SAME_SITE: 'None' }, 'AUTH_COOKIE_SAME_SITE'],
      ['AUTH_COOKIE_SAME_SITE=none', { AUTH_COOKIE_SAME_SITE: 'none' }, 'AUTH_COOKIE_SAME_SITE'],
      ['AUTH_PUBLIC_ORIGIN over plain http', { AUTH_PUBLIC_ORIGIN: 'https://a.example, http://b.example' }, 'AUTH_PUBLIC_ORIGIN'],
      ['no MAC secret file (development generates one)', { AUTH_MAC_SECRET_PATH: join(tmpdir(), 'no-such-dir', 'mac-secret') }, 'AUTH_MAC_SECRET_PATH'],
      ['no MAC secret beside the private key (the default path)', { AUTH_MAC_SECRET_PATH: undefined, JWT_PRIVATE_KEY_PATH: '/nonexistent/private.pem' }, 'AUTH_MAC_SECRET_PATH'],
    ])('%s', (_what, change, variable) => {
      expect(refusal({ ...PRODUCTION, ...change })).toBe(variable);
      // The same settings are allowed in development.
      expect(refusal({ ...PRODUCTION, ...change, NODE_ENV: 'development' })).toBe('OK');
    });
  });
});
