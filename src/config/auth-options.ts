import type { AuthModuleOptions } from '../auth';
import type { AppConfig } from './app-config.schema';

/** This application's environment (loadConfig) as AuthModule options. */
export function authOptionsFromConfig(c: AppConfig): AuthModuleOptions {
  return {
    issuer: c.jwt.issuer,
    audience: c.jwt.audience,
    clientId: c.jwt.clientId,
    accessTokenTtl: c.accessTokenTtl,
    sessionIdleTtl: c.refreshTokenTtl,
    sessionAbsoluteTtl: c.refreshStorageTtl,
    refreshReuseGrace: c.refreshReuseGrace,
    compromiseAction: c.compromiseAction,
    cookie: c.cookie,
    keys: {
      privateKeyPath: c.jwt.privateKeyPath,
      publicKeyPath: c.jwt.publicKeyPath,
      nextPublicKeyPath: c.jwt.nextPublicKeyPath,
      previousPublicKeyPaths: c.jwt.previousPublicKeyPaths,
      algorithm: c.jwt.algorithm,
      generateIfMissing: c.jwt.generateDevKeys,
    },
    macSecret: { path: c.macSecretPath, generateIfMissing: c.jwt.generateDevKeys },
    redisUrl: c.redisUrl,
    redisClusterNodes: c.redisClusterNodes,
    redisSentinel: c.redisSentinel,
    redisWaitReplicas: c.redisWaitReplicas,
    // Beside the embedded user database, unless that is in memory too.
    embeddedStateDir: c.embeddedDataDir === ':memory:' ? null : c.embeddedDataDir,
    revocationMaxStaleness: c.revocationMaxStaleness,
    browser: { ...c.browserSession, publicOrigins: c.publicOrigins },
    rateLimit: c.rateLimit,
    deviceBinding: c.deviceBinding,
    bindingMismatchAction: c.bindingMismatchAction,
    reauthMaxAge: c.reauthMaxAge,
    // MAIL_FROM unset: the module's default (no-reply at the public origin's host).
    mail: c.mail.from ? { url: c.mail.url, from: c.mail.from } : { url: c.mail.url },
    recovery: c.recovery,
    introspection: c.introspection,
  };
}
