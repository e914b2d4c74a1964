import request from 'supertest';
import { FakeClock } from '../support/fake-clock';
import {
  bearer,
  CHROME_ON_MACOS,
  createTestApp,
  FIREFOX_ON_WINDOWS,
  PASSWORD,
  refreshCookieOf,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/**
 * The audit trail (issue 4): every flow, captured from the app's pino destination. Each flow emits
 * its event exactly once, with time (UTC), event, ids and the request id; no line ever carries a
 * password, token, refresh secret, cookie value, email or raw client address.
 */
interface Line {
  level: number;
  time: string;
  msg?: string;
  audit?: boolean;
  event?: string;
  userId?: string;
  sid?: string;
  ipHash?: string;
  reqId?: string;
  [k: string]: unknown;
}

describe('audit log (captured pino output)', () => {
  const clock = new FakeClock();
  const raw: string[] = [];
  let t: TestApp;
  let ipSeq = 1;
  const ip = () => `192.0.2.${ipSeq++}`;
  /** Everything that must never be logged. */
  const secrets = new Set<string>();

  beforeAll(async () => {
    t = await createTestApp({
      clock,
      logDestination: { write: (s: string) => void raw.push(s) },
      env: { LOG_LEVEL: 'info', TRUST_PROXY: 'loopback', AUTH_RATE_LIMIT_MAX: '10', AUTH_DEVICE_BINDING: 'ua' },
    });
  });
  afterAll(() => t?.close());

  const lines = (): Line[] => raw.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Line);
  /** Runs a flow and returns the audit events it emitted. */
  async function flow(run: () => Promise<unknown>): Promise<Line[]> {
    const before = lines().length;
    await run();
    return lines().slice(before).filter((l) => l.audit === true);
  }
  const once = (events: Line[], name: string): Line => {
    const hits = events.filter((e) => e.event === name);
    expect({ name, count: hits.length }).toEqual({ name, count: 1 });
    return hits[0];
  };

  const post = (path: string, from: string, body: object, ua = CHROME_ON_MACOS) =>
    request(t.http).post(path).set('X-Forwarded-For', from).set('User-Agent', ua).send(body);

  let email: string;
  let userId: string;
  let session: { accessToken: string; refreshToken: string; sid: string };
  const home = '198.51.100.10';

  it('register, login success (with the request id), login failure', async () => {
    email = uniqueEmail('audit');
    secrets.add(email).add(PASSWORD);
    const reg = await flow(() => post('/auth/register', ip(), { email, password: PASSWORD }));
    userId = once(reg, 'register').userId as string;
    expect(userId).toEqual(expect.any(String));

    let res: request.Response | undefined;
    const ok = await flow(async () => {
      res = await post('/auth/login', home, { email, password: PASSWORD, refreshTokenDelivery: 'body' }).set('X-Request-Id', 'req-login-1');
    });
    const success = once(ok, 'login.success');
    session = { accessToken: res!.body.accessToken, refreshToken: res!.body.refreshToken, sid: success.sid as string };
    secrets.add(session.accessToken).add(session.refreshToken).add(session.refreshToken.split('.')[2]);
    expect(success).toEqual(expect.objectContaining({ userId, reqId: 'req-login-1', ipHash: expect.stringMatching(/^[\w-]{12}$/) }));
    expect(success.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const wrong = 'Wrong Password\u0000\n{"event":"forged"}';
    secrets.add(wrong);
    const failed = await flow(() => post('/auth/login', ip(), { email, password: wrong }));
    expect(once(failed, 'login.failure').reqId).toEqual(expect.any(String));
  });

  it('lockout', async () => {
    const attacker = ip();
    for (let i = 0; i < 5; i++) await post('/auth/login', attacker, { email, password: `guess ${i}` });
    clock.advance(0);
    const locked = await flow(() => post('/auth/login', attacker, { email, password: PASSWORD }));
    expect(once(locked, 'login.locked')).toEqual(expect.objectContaining({ reason: 'source' }));
  });

  it('refresh, refresh with a cookie, reuse detected', async () => {
    const r = await flow(async () => {
      const res = await post('/auth/refresh', home, { refreshToken: session.refreshToken });
      expect(res.status).toBe(200);
      secrets.add(res.body.accessToken).add(res.body.refreshToken);
      session = { ...session, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
    });
    expect(once(r, 'refresh')).toEqual(expect.objectContaining({ userId, sid: session.sid }));

    // A cookie session, to have a cookie value to look for.
    const cookieLogin = await post('/auth/login', home, { email, password: PASSWORD });
    const cookie = refreshCookieOf(cookieLogin)!;
    secrets.add(cookie.value).add(cookieLogin.body.accessToken);
    let next = '';
    const viaCookie = await flow(async () => {
      const res = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('X-Forwarded-For', home).set('User-Agent', CHROME_ON_MACOS).set('Cookie', `${cookie.name}=${cookie.value}`);
      next = refreshCookieOf(res)!.value;
      secrets.add(next).add(res.body.accessToken);
    });
    once(viaCookie, 'refresh');

    // The successor used, the cookie before it is theft.
    const used = await post('/auth/refresh', home, { refreshToken: next });
    secrets.add(used.body.accessToken).add(used.body.refreshToken);
    const reused = await flow(() => post('/auth/refresh', home, { refreshToken: cookie.value }));
    once(reused, 'refresh.reuse_detected');
  });

  it('session expired', async () => {
    const s = await post('/auth/login', home, { email, password: PASSWORD, refreshTokenDelivery: 'body' });
    secrets.add(s.body.accessToken).add(s.body.refreshToken);
    clock.advanceSeconds(t.config.refreshTokenTtl); // the idle timeout
    const expired = await flow(async () => {
      const res = await post('/auth/refresh', home, { refreshToken: s.body.refreshToken });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('SESSION_EXPIRED');
    });
    const sid = JSON.parse(Buffer.from(s.body.accessToken.split('.')[1], 'base64url').toString()).sid as string;
    expect(once(expired, 'session.expired')).toEqual(expect.objectContaining({ userId, sid }));
  });

  it('password change refused: wrong current password, then the lockout', async () => {
    const s = await post('/auth/login', home, { email, password: PASSWORD, refreshTokenDelivery: 'body' });
    secrets.add(s.body.accessToken).add(s.body.refreshToken);
    const change = (currentPassword: string) =>
      request(t.http).post('/auth/password').set('X-Forwarded-For', home).set('Authorization', bearer(s.body.accessToken)).send({ currentPassword, newPassword: 'a new passphrase entirely' });
    const wrong = await flow(async () => expect((await change('not the password at all')).status).toBe(401));
    expect(once(wrong, 'password.change_failed')).toEqual(
      expect.objectContaining({ userId, reason: 'wrong current password', accountFailures: expect.any(Number), sourceFailures: 1 }),
    );
    for (let i = 0; i < 4; i++) await change(`guess ${i}`);
    const locked = await flow(async () => expect((await change(PASSWORD)).status).toBe(401));
    expect(once(locked, 'password.change_failed')).toEqual(expect.objectContaining({ userId, reason: 'locked (source)' }));
    clock.advanceSeconds(3600); // past the lockout's longest wait: the account is usable again
  });

  it('binding mismatch', async () => {
    const s = await post('/auth/login', home, { email, password: PASSWORD, refreshTokenDelivery: 'body' });
    secrets.add(s.body.accessToken).add(s.body.refreshToken);
    const mismatch = await flow(() => post('/auth/refresh', home, { refreshToken: s.body.refreshToken }, FIREFOX_ON_WINDOWS));
    expect(once(mismatch, 'refresh.binding_mismatch')).toEqual(expect.objectContaining({ userId, reason: 'session revoked' }));
  });

  it('session revoked, logout, password change, logout-all, reauthentication required', async () => {
    const login = async () => {
      const res = await post('/auth/login', home, { email, password: PASSWORD, refreshTokenDelivery: 'body' });
      secrets.add(res.body.accessToken).add(res.body.refreshToken);
      return res.body as { accessToken: string; refreshToken: string };
    };
    const a = await login();
    const b = await login();
    const sidOf = (tok: string) => JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString()).sid as string;
    once(await flow(() => request(t.http).delete(`/auth/sessions/${sidOf(b.accessToken)}`).set('Authorization', bearer(a.accessToken))), 'session.revoked');
    once(await flow(() => request(t.http).post('/auth/logout').set('Authorization', bearer(a.accessToken))), 'logout');

    const c = await login();
    const newPassword = 'an entirely new passphrase';
    secrets.add(newPassword);
    const changed = await flow(() =>
      request(t.http).post('/auth/password').set('X-Forwarded-For', ip()).set('Authorization', bearer(c.accessToken)).send({ currentPassword: PASSWORD, newPassword }),
    );
    once(changed, 'password.changed');
    once(await flow(() => request(t.http).post('/auth/logout-all').set('Authorization', bearer(c.accessToken))), 'logout_all');

    const d = await post('/auth/login', home, { email, password: newPassword, refreshTokenDelivery: 'body' });
    secrets.add(d.body.accessToken).add(d.body.refreshToken);
    clock.advanceSeconds(400); // past AUTH_REAUTH_MAX_AGE (300), within the token's 900 s
    once(await flow(() => request(t.http).post('/auth/logout-all').set('Authorization', bearer(d.body.accessToken))), 'reauth.required');
  });

  it('rate limited', async () => {
    const from = ip();
    for (let i = 0; i < 10; i++) await post('/auth/register', from, { email: uniqueEmail('rl'), password: 'x' });
    const limited = await flow(() => post('/auth/register', from, { email: uniqueEmail('rl'), password: 'x' }));
    once(limited, 'rate_limited');
  });

  it('browser sign-in and a refused CSRF check, each with its request id', async () => {
    const origin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    const signIn = await flow(async () => {
      const res = await request(t.http)
        .post('/auth/browser/login')
        .set({ Origin: origin, 'Sec-Fetch-Site': 'same-origin', 'X-Forwarded-For': ip(), 'X-Request-Id': 'req-browser-1' })
        .send({ email, password: 'an entirely new passphrase' });
      expect(res.status).toBe(200);
      const cookie = /__Host-session=([^;]+)/.exec(String(res.headers['set-cookie']))![1];
      secrets.add(cookie).add(res.body.csrfToken);
      const refused = await request(t.http)
        .post('/auth/logout')
        .set({ Cookie: `__Host-session=${cookie}`, Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site', 'X-Request-Id': 'req-csrf-1' });
      expect(refused.status).toBe(403);
    });
    expect(once(signIn, 'browser.login').reqId).toBe('req-browser-1');
    expect(once(signIn, 'csrf.failure')).toEqual(expect.objectContaining({ reqId: 'req-csrf-1', userId }));
  });

  it('every line: JSON with an ISO time; no secret, email, cookie or raw address anywhere', () => {
    const all = lines();
    if (process.env.E2E_LOG) process.stdout.write(raw.slice(0, 6).join(''));
    expect(all.length).toBeGreaterThan(10);
    const text = raw.join('');
    for (const s of secrets) expect({ leaked: text.includes(s) ? s.slice(0, 20) : null }).toEqual({ leaked: null });
    expect(text).not.toMatch(/refresh_token=|authorization|cookie/i);
    expect(text).not.toMatch(/198\.51\.100\.10|192\.0\.2\.\d/);
    expect(text).not.toContain('"event":"forged"');
    for (const l of all) expect(l.time).toMatch(/Z$/);
    // Every audit line carries the request id of the request that caused it.
    for (const l of all.filter((x) => x.audit)) expect({ event: l.event, reqId: typeof l.reqId }).toEqual({ event: l.event, reqId: 'string' });
    const events = new Set(all.filter((l) => l.audit).map((l) => l.event));
    for (const e of ['register', 'login.success', 'login.failure', 'login.locked', 'refresh', 'refresh.reuse_detected', 'refresh.binding_mismatch',
      'session.revoked', 'session.expired', 'logout', 'password.changed', 'password.change_failed', 'logout_all', 'reauth.required', 'rate_limited',
      'browser.login', 'csrf.failure']) {
      expect(events).toContain(e);
    }
  });
});

describe('audit log and LOG_LEVEL', () => {
  async function auditLinesAt(level: string): Promise<Array<{ audit?: boolean; event?: string; reqId?: unknown; level: number }>> {
    const raw: string[] = [];
    const app = await createTestApp({ logDestination: { write: (s: string) => void raw.push(s) }, env: { LOG_LEVEL: level } });
    try {
      const email = uniqueEmail('level');
      expect((await request(app.http).post('/auth/register').send({ email, password: PASSWORD })).status).toBe(201);
      expect((await request(app.http).post('/auth/login').send({ email, password: PASSWORD })).status).toBe(200);
      expect((await request(app.http).post('/auth/login').send({ email, password: 'not the password at all' })).status).toBe(401);
    } finally {
      await app.close();
    }
    return raw
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as { audit?: boolean; event?: string; reqId?: unknown; level: number })
      .filter((l) => l.audit);
  }

  it('LOG_LEVEL=warn quiets the logs but not the audit trail', async () => {
    const audit = await auditLinesAt('warn');
    expect(audit.map((l) => l.event)).toEqual(expect.arrayContaining(['register', 'login.success', 'login.failure']));
    for (const l of audit) expect({ event: l.event, reqId: typeof l.reqId, level: l.level }).toEqual({ event: l.event, reqId: 'string', level: 30 });
  });

  it('LOG_LEVEL=silent silences everything, audit included', async () => {
    expect(await auditLinesAt('silent')).toEqual([]);
  });
});
