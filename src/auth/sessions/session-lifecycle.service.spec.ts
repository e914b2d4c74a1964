import { FailedAttemptLimiter } from '../abuse/failed-attempt.limiter';
import { MemoryRateLimitStore } from '../abuse/rate-limit-store.memory-adapter';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttemptKeyer } from '../abuse/attempt-keys';
import { MemoryLoginAttemptStore } from '../abuse/login-attempt-store.memory-adapter';
import { DEFAULT_LOCKOUT_POLICY, type AuthSettings } from '../common/auth-settings';
import type { AuthAudit } from '../observability/auth-audit.service';
import type { AuthMetrics } from '../observability/auth-metrics.service';
import { SessionLifecycleService } from './session-lifecycle.service';
import type { CredentialsPort, VerifiedUser } from '../credentials/credentials.port';
import { AuthError } from '../errors/auth-error.model';
import type { RevocationStore } from '../revocation/revocation-store.port';
import type { RevocationView } from '../revocation/revocation-view.service';
import { DeviceBinder } from './device-binding';
import { MemorySessionStore } from './session-store.memory-adapter';
import { AccessTokenService } from '../tokens/access-token.service';
import { RefreshTokenCodec } from '../tokens/refresh-token.codec';
import { newSessionId } from '../tokens/session-id.codec';
import { loadSigningKeys } from '../tokens/signing-keys.loader';
import { MacSecret } from '../tokens/mac-secret.loader';

/**
 * The login orchestration around the credentials port: on EVERY path (right password, wrong
 * password, unknown email, malformed email, address held by the lockout, account at the 100-cap)
 * the port's verify — which runs exactly one argon2 hash, against a dummy hash for unknown users
 * (users.service.spec.ts) — is called exactly once, and every refusal is the same AuthError.
 */
describe('SessionLifecycleService.login: one password verification on every path', () => {
  const macSecret = MacSecret.fromBytes(randomBytes(32));
  const users = new Map<string, { id: string; password: string }>([
    ['ada@example.com', { id: 'user-ada', password: 'right password' }],
    ['bob@example.com', { id: 'user-bob', password: 'right password' }],
    ['cy@example.com', { id: 'user-cy', password: 'right password' }],
  ]);
  let verifyCalls: number;
  const changed: string[] = [];
  const credentials = {
    async verify(email: string, password: string): Promise<VerifiedUser | null> {
      verifyCalls++;
      const u = users.get(email.trim().toLowerCase());
      return u && u.password === password ? { id: u.id } : null;
    },
    register: async () => ({ ok: false, reason: 'EMAIL_TAKEN' }),
    accountById: async (userId: string) => {
      const email = [...users].find(([, u]) => u.id === userId)?.[0];
      return email === undefined ? null : { id: userId, email, emailVerified: true, passwordStamp: 'stamp' };
    },
    async changePassword(userId, current) {
      const u = [...users.values()].find((x) => x.id === userId);
      if (!u || u.password !== current) return { ok: false, reason: 'INVALID_CREDENTIALS' };
      changed.push(userId);
      return { ok: true };
    },
  } as Partial<CredentialsPort> as CredentialsPort;
  let now = Date.now();
  const clock = { now: () => now };
  const audit = { record: jest.fn() };
  const metrics = { timer: () => () => undefined, loginDuration: null, refreshDuration: null };
  const options = {
    accessTokenTtl: 900,
    sessionIdleTtl: 3600,
    sessionAbsoluteTtl: 86400,
    compromiseAction: 'REVOKE_ALL',
    lockout: DEFAULT_LOCKOUT_POLICY,
    bindingMismatchAction: 'revoke',
    recovery: { requireVerifiedEmail: false },
  } as unknown as AuthSettings;

  const service = new SessionLifecycleService(
    credentials,
    new MemorySessionStore(),
    { add: async () => undefined } as unknown as RevocationStore,
    new RefreshTokenCodec(macSecret),
    options,
    clock,
    { issue: () => ({ token: 'access', expiresIn: 900 }) } as unknown as AccessTokenService,
    { apply: () => undefined } as unknown as RevocationView,
    audit as unknown as AuthAudit,
    metrics as unknown as AuthMetrics,
    new MemoryLoginAttemptStore(),
    new AttemptKeyer(macSecret),
    new DeviceBinder(macSecret, 'ua'),
    new FailedAttemptLimiter(new MemoryRateLimitStore(), { rateLimit: { windowSeconds: 300, max: 10 } } as AuthSettings, audit as unknown as AuthAudit),
  );

  beforeEach(() => {
    verifyCalls = 0;
    audit.record.mockClear();
  });

  async function outcome(email: string, password: string, ip: string): Promise<string> {
    try {
      await service.login(email, password, { ip, userAgent: 'jest' });
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(AuthError);
      return (e as AuthError).code;
    }
  }

  it.each([
    ['right password', 'ada@example.com', 'right password', 'ok'],
    ['wrong password', 'ada@example.com', 'wrong password', 'INVALID_CREDENTIALS'],
    ['unknown email', 'nobody@example.com', 'right password', 'INVALID_CREDENTIALS'],
    ['malformed email', 'not an email', 'right password', 'INVALID_CREDENTIALS'],
  ])('%s: one verification', async (_name, email, password, expected) => {
    expect(await outcome(email, password, '203.0.113.1')).toBe(expected);
    expect(verifyCalls).toBe(1);
  });

  it('an address held by the lockout: still one verification, the same refusal even with the right password', async () => {
    for (let i = 0; i < DEFAULT_LOCKOUT_POLICY.sourceFree; i++) await outcome('ada@example.com', 'guess', '203.0.113.2');
    verifyCalls = 0;
    expect(await outcome('ada@example.com', 'right password', '203.0.113.2')).toBe('INVALID_CREDENTIALS');
    expect(verifyCalls).toBe(1);
    expect(audit.record).toHaveBeenCalledWith('login.locked', expect.objectContaining({ reason: 'source' }), expect.objectContaining({ ip: '203.0.113.2' }));
  });

  it('an account at the 100-failure cap: still one verification per attempt, never a 101st counted failure', async () => {
    for (let i = 0; i < 100; i++) {
      now += DEFAULT_LOCKOUT_POLICY.maxDelayMs + 1;
      await outcome('bob@example.com', 'guess', `198.51.100.${i}`);
    }
    expect(audit.record.mock.calls.filter(([e]) => e === 'login.failure')).toHaveLength(100);
    now += DEFAULT_LOCKOUT_POLICY.maxDelayMs + 1;
    audit.record.mockClear();
    verifyCalls = 0;
    expect(await outcome('bob@example.com', 'right password', '198.51.100.200')).toBe('INVALID_CREDENTIALS');
    expect(await outcome('bob@example.com', 'guess', '198.51.100.201')).toBe('INVALID_CREDENTIALS');
    expect(verifyCalls).toBe(2);
    expect(audit.record.mock.calls.map(([e]) => e)).toEqual(['login.locked', 'login.locked']);
  });

  it('changePassword: a wrong current password counts on the account like a failed login; locked, even the right one is refused there and at login', async () => {
    const principal = { sub: 'user-cy', sid: newSessionId(now), authTime: Math.floor(now / 1000), expiresAt: Math.floor(now / 1000) + 900, via: 'bearer' as const, claims: {} };
    const client = { ip: '203.0.113.9' };
    const change = (current: string) =>
      service.changePassword(principal, current, 'a brand new passphrase', client).then(
        () => 'ok',
        (e: AuthError) => e.code,
      );
    for (let i = 0; i < DEFAULT_LOCKOUT_POLICY.sourceFree; i++) expect(await change('guess')).toBe('INVALID_CREDENTIALS');
    expect(verifyCalls).toBe(DEFAULT_LOCKOUT_POLICY.sourceFree);
    const failures = audit.record.mock.calls.filter(([e]) => e === 'password.change_failed');
    expect(failures).toHaveLength(DEFAULT_LOCKOUT_POLICY.sourceFree);
    expect(failures.at(-1)).toEqual([
      'password.change_failed',
      expect.objectContaining({ userId: 'user-cy', sid: principal.sid, reason: 'wrong current password', accountFailures: DEFAULT_LOCKOUT_POLICY.sourceFree }),
      client,
    ]);

    audit.record.mockClear();
    expect(await change('right password')).toBe('INVALID_CREDENTIALS');
    expect(audit.record).toHaveBeenCalledWith('password.change_failed', expect.objectContaining({ userId: 'user-cy', reason: 'locked (source)' }), client);
    expect(await outcome('cy@example.com', 'right password', client.ip)).toBe('INVALID_CREDENTIALS');
    expect(audit.record).toHaveBeenLastCalledWith('login.locked', expect.objectContaining({ userId: 'user-cy', reason: 'source' }), expect.anything());
    expect(changed).toEqual([]);

    // Once the delay has passed, the right password goes through, and resets the counters.
    now += DEFAULT_LOCKOUT_POLICY.maxDelayMs + 1;
    expect(await change('right password')).toBe('ok');
    expect(changed).toEqual(['user-cy']);
    expect(await outcome('cy@example.com', 'right password', client.ip)).toBe('ok');
  });
});

/** Refresh issues the new access token from what the store answers: the session's own auth_time. */
describe('SessionLifecycleService.refresh: the new access token', () => {
  const macSecret = MacSecret.fromBytes(randomBytes(32));
  const dir = mkdtempSync(join(tmpdir(), 'auth-service-refresh-'));
  const files = { privateKeyPath: join(dir, 'private.pem'), publicKeyPath: join(dir, 'public.pem') };
  const keys = loadSigningKeys({ ...files, previousPublicKeyPaths: [], algorithm: 'ES256', generateIfMissing: true }).keys;
  const now = 1_780_000_000_000;
  const clock = { now: () => now };
  const options = {
    issuer: 'https://auth.example.test',
    audience: 'api',
    clientId: 'web',
    accessTokenTtl: 900,
    verifiedTokenCacheSize: 10,
    sessionIdleTtl: 3600,
    sessionAbsoluteTtl: 86400,
    compromiseAction: 'REVOKE_SESSION',
    lockout: DEFAULT_LOCKOUT_POLICY,
    bindingMismatchAction: 'revoke',
  } as unknown as AuthSettings;
  const accessTokens = new AccessTokenService(keys, options, clock);
  const sessions = new MemorySessionStore();
  const codec = new RefreshTokenCodec(macSecret);
  const serviceWith = (credentials: Partial<CredentialsPort>): SessionLifecycleService =>
    new SessionLifecycleService(
      credentials as CredentialsPort,
      sessions,
      { add: async () => undefined } as unknown as RevocationStore,
      codec,
      options,
      clock,
      accessTokens,
      { apply: () => undefined } as unknown as RevocationView,
      { record: () => undefined } as unknown as AuthAudit,
      { timer: () => () => undefined } as unknown as AuthMetrics,
      new MemoryLoginAttemptStore(),
      new AttemptKeyer(macSecret),
      new DeviceBinder(macSecret, 'off'),
      new FailedAttemptLimiter(new MemoryRateLimitStore(), { rateLimit: { windowSeconds: 300, max: 10 } } as AuthSettings, { record: () => undefined } as unknown as AuthAudit),
    );
  const service = serviceWith({});

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A session as login makes it, but with the given auth_time (login's is the sid's creation second). */
  async function session(userId: string, authTime: number): Promise<{ sid: string; token: string }> {
    const sid = newSessionId(now - 60_000);
    const refresh = codec.create(userId, sid);
    await sessions.create({
      userId,
      sid,
      kind: 'api',
      createdAt: now - 60_000,
      authTime,
      absoluteExpiresAt: now + 86_400_000,
      idleTtlMs: 3_600_000,
      deviceLabel: 'jest',
      bindingHash: '',
      secretHash: refresh.secretHash,
    });
    return { sid, token: refresh.token };
  }

  it.each([
    ['a login-made session (auth_time: its creation second)', Math.floor((now - 60_000) / 1000)],
    ['a session whose auth_time moved on (a later re-authentication)', Math.floor(now / 1000) - 7],
  ])('%s: the token carries the stored auth_time, and a new refresh token comes back', async (_what, authTime) => {
    const { sid, token } = await session('user-ada', authTime);
    const out = await service.refresh(token, {});
    expect(accessTokens.verify(out.accessToken)).toMatchObject({ sub: 'user-ada', sid, authTime });
    expect(out.refreshToken).not.toBe(token);
  });

  it('a refused refresh issues no access token', async () => {
    const { token } = await session('user-cy', Math.floor((now - 60_000) / 1000));
    const first = await service.refresh(token, {});
    await service.refresh(first.refreshToken, {});
    const issue = jest.spyOn(accessTokens, 'issue');
    try {
      // The token before a used successor: reuse (the session is revoked).
      await expect(service.refresh(token, {})).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
      const forged = `${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(22)}`;
      await expect(service.refresh(forged, {})).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
      expect(issue).not.toHaveBeenCalled();
    } finally {
      issue.mockRestore();
    }
  });

  it("the port's claims (claimsFor) are asked once per refresh, ride in the token, and a change shows at the next refresh", async () => {
    const roles = new Map([['user-dee', ['editor']]]);
    const claimsFor = jest.fn(async (userId: string) => ({ roles: roles.get(userId) ?? [], tenant: 'acme' }));
    const withClaims = serviceWith({ claimsFor: claimsFor as CredentialsPort['claimsFor'] });
    const { token } = await session('user-dee', Math.floor((now - 60_000) / 1000));
    const first = await withClaims.refresh(token, {});
    expect(claimsFor).toHaveBeenCalledTimes(1);
    expect(accessTokens.verify(first.accessToken).claims).toEqual({ roles: ['editor'], tenant: 'acme' });

    roles.set('user-dee', ['editor', 'admin']);
    const second = await withClaims.refresh(first.refreshToken, {});
    expect(claimsFor).toHaveBeenCalledTimes(2);
    expect(accessTokens.verify(second.accessToken).claims).toEqual({ roles: ['editor', 'admin'], tenant: 'acme' });

    // A port that returns a reserved name fails the refresh with the port's fault, named.
    claimsFor.mockResolvedValueOnce({ roles: [], sub: 'someone-else' } as never);
    await expect(withClaims.refresh(second.refreshToken, {})).rejects.toThrow('claim name "sub" is reserved');
  });

  it('without claimsFor, a token carries no extra claims', async () => {
    const { token } = await session('user-eve', Math.floor((now - 60_000) / 1000));
    expect(accessTokens.verify((await service.refresh(token, {})).accessToken).claims).toEqual({});
  });
});
