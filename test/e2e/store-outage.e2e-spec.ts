import request from 'supertest';
import { FakeClock } from '../support/fake-clock';
import { createTestDatabase } from '../support/postgres';
import { RecordingLogger } from '../support/recording-logger';
import { startRedis, type RedisHarness } from '../support/redis-server';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import {
  bearer,
  createTestApp,
  eventually,
  expectProblem,
  login,
  PASSWORD,
  refreshCookieOf,
  refreshViaBody,
  register,
  registerAndLogin,
  REFRESH_COOKIE,
  sleep,
  uniqueEmail,
  type LoggedIn,
  type TestApp,
} from '../support/test-app';

/**
 * Redis outages over HTTP. Stopped (connection refused) and restarted: state-changing endpoints
 * answer 503 STORE_UNAVAILABLE with Retry-After and issue nothing; the guard keeps serving from
 * its local revocation view for AUTH_REVOCATION_MAX_STALENESS, then fails closed with 503;
 * readiness reports it; everything recovers once Redis is back. The harness runs Redis without
 * persistence, so a restart empties it: sessions from before are then rejected cleanly (401).
 * Hung (SIGSTOP) and resumed: the state survives, and the sessions go on. PostgreSQL (the users
 * database) going away behind a TCP proxy: credential endpoints answer 503, sessions carry on.
 */
const STALENESS_MS = 5000;

function expectUnavailable(res: request.Response): void {
  expectProblem(res, 503, 'STORE_UNAVAILABLE');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  // Nothing issued that the store did not record.
  expect(res.headers['set-cookie']).toBeUndefined();
  expect(res.body).not.toHaveProperty('accessToken');
  expect(res.body).not.toHaveProperty('refreshToken');
}

/** Every 503 the problem filter answers is logged for the operator, as this warning. */
const STORE_UNAVAILABLE_WARNING = /^WARN \[Errors\] store unavailable: /;

/** The error and warning lines an app logged, less the development-keys notice every test app causes. */
function alarmsOf(logs: RecordingLogger): string[] {
  return logs.alarms().filter((line) => !/created (development signing keys|a development MAC secret)/.test(line));
}

describe('Redis outage (Redis + PostgreSQL)', () => {
  const clock = new FakeClock();
  let t: TestApp;
  let redis: RedisHarness;
  // The outage's log lines are expected: kept, asserted on below, not printed.
  const logs = new RecordingLogger();

  beforeAll(async () => {
    t = await createTestApp({ clock, logger: logs, env: { AUTH_REVOCATION_MAX_STALENESS: String(STALENESS_MS) } });
    redis = t.redis!;
  });
  afterAll(() => t?.close());

  const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));
  const ready = () => request(t.http).get('/health/ready');

  describe('Redis stopped, then restarted (empty)', () => {
    // These steps run in order and share state: before, during and after one outage.
    let email: string;
    let s: LoggedIn;
    let revokedBefore: LoggedIn;
    let cookie: string;

    beforeAll(async () => {
      ({ email } = await register(t.http, uniqueEmail('outage')));
      s = await login(t.http, email);
      revokedBefore = await login(t.http, email);
      expect((await request(t.http).post('/auth/logout').set('Authorization', bearer(revokedBefore.accessToken))).status).toBe(204);
      const cookieLogin = await request(t.http).post('/auth/login').send({ email, password: PASSWORD });
      cookie = refreshCookieOf(cookieLogin)!.value;
      expect((await ready()).status).toBe(200);

      await redis.stop();
      // Wait until the app has noticed (the revocation feed reports the disconnect).
      const noticed = await eventually(async () => (await ready()).body?.checks?.revocationFeed === 'down', 10_000, 50);
      expect(noticed).toBe(true);
    });

    it('readiness answers 503 and names what is down; liveness stays 200', async () => {
      const res = await ready();
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'unavailable', checks: { sessionStore: 'down', revocationStore: 'down', revocationFeed: 'down', userDatabase: 'up' } });
      const live = await request(t.http).get('/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ status: 'ok' });
    });

    it('login → 503 STORE_UNAVAILABLE with Retry-After and no token, by cookie or by body', async () => {
      expectUnavailable(await request(t.http).post('/auth/login').send({ email, password: PASSWORD }));
      expectUnavailable(await request(t.http).post('/auth/login').send({ email, password: PASSWORD, refreshTokenDelivery: 'body' }));
    });

    it('wrong credentials → 503 too: without the shared failed-attempt counters no guess is checked (lockout fails closed)', async () => {
      expectUnavailable(await request(t.http).post('/auth/login').send({ email, password: 'wrong password entirely' }));
    });

    it('refresh → 503 and no token; the refresh cookie is kept (it is not the cookie\'s fault)', async () => {
      expectUnavailable(await refreshViaBody(t.http, s.refreshToken));
      expectUnavailable(await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${cookie}`));
    });

    it('logout, logout-all, listing and revoking sessions → 503 with Retry-After', async () => {
      expectUnavailable(await request(t.http).post('/auth/logout').set('Authorization', bearer(s.accessToken)));
      expectUnavailable(await request(t.http).post('/auth/logout').send({ refreshToken: s.refreshToken }));
      expectUnavailable(await request(t.http).post('/auth/logout-all').set('Authorization', bearer(s.accessToken)));
      expectUnavailable(await request(t.http).get('/auth/sessions').set('Authorization', bearer(s.accessToken)));
      expectUnavailable(await request(t.http).delete(`/auth/sessions/${s.sid}`).set('Authorization', bearer(s.accessToken)));
    });

    it('the guard keeps serving from its local view within AUTH_REVOCATION_MAX_STALENESS, revocations included', async () => {
      const res = await me(s.accessToken);
      expect(res.status).toBe(200);
      expect((await request(t.http).get('/notes').set('Authorization', bearer(s.accessToken))).status).toBe(200);
      // A session revoked before the outage stays revoked.
      expectProblem(await me(revokedBefore.accessToken), 401, 'SESSION_REVOKED');
    });

    it('past AUTH_REVOCATION_MAX_STALENESS the guard fails closed: 503 STORE_UNAVAILABLE, not 200 and not 401', async () => {
      clock.advance(STALENESS_MS + 1000);
      expectUnavailable(await me(s.accessToken));
      expectUnavailable(await request(t.http).get('/notes').set('Authorization', bearer(s.accessToken)));
      // Requests without credentials are still told so, and public routes still answer.
      expectProblem(await request(t.http).get('/auth/me'), 401, 'ACCESS_TOKEN_MISSING');
      expect((await request(t.http).get('/health/live')).status).toBe(200);
      expect((await request(t.http).get('/.well-known/jwks.json')).status).toBe(200);
    });

    it('after Redis is back: ready again, the guard serves again, login/refresh/logout work', async () => {
      await redis.start();
      const back = await eventually(async () => (await ready()).status === 200, 15_000, 100);
      expect(back).toBe(true);
      expect((await me(s.accessToken)).status).toBe(200);

      const fresh = await login(t.http, email);
      const refreshed = await refreshViaBody(t.http, fresh.refreshToken);
      expect(refreshed.status).toBe(200);
      expect((await request(t.http).post('/auth/logout').set('Authorization', bearer(refreshed.body.accessToken))).status).toBe(204);
      expectProblem(await me(refreshed.body.accessToken), 401, 'SESSION_REVOKED');
    });

    it('sessions from before a restart of the (non-persistent) Redis are rejected cleanly: 401, not 500', async () => {
      expectProblem(await refreshViaBody(t.http, s.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
      const res = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${cookie}`);
      expectProblem(res, 401, 'REFRESH_TOKEN_INVALID');
      expect(refreshCookieOf(res)?.value).toBe('');
      // The local view kept the pre-outage revocation.
      expectProblem(await me(revokedBefore.accessToken), 401, 'SESSION_REVOKED');
    });
  });

  describe('Redis hung (SIGSTOP), then resumed: nothing is lost', () => {
    let email: string;
    let s: LoggedIn;
    let other: LoggedIn;

    beforeAll(async () => {
      ({ email } = await register(t.http, uniqueEmail('hung')));
      s = await login(t.http, email);
      other = await login(t.http, email);
      const r = await refreshViaBody(t.http, s.refreshToken);
      expect(r.status).toBe(200);
      s = { ...s, refreshToken: r.body.refreshToken, accessToken: r.body.accessToken };
    });

    afterAll(async () => {
      if (redis.running) await redis.resume().catch(() => undefined);
    });

    it('while hung: the guard serves from its view within the budget, then 503; refresh and login time out into 503 without issuing anything; afterwards every session carries on', async () => {
      await redis.pause();
      const pausedAt = Date.now();
      let resumed = false;
      try {
        // Within AUTH_REVOCATION_MAX_STALENESS the guard does not need Redis for a request.
        expect((await me(other.accessToken)).status).toBe(200);
        expectUnavailable(await request(t.http).post('/auth/login').send({ email, password: PASSWORD }));
        expect((await ready()).status).toBe(503);
        // A hung Redis is a silent feed: past the budget nothing is confirmed, so nothing is accepted.
        await sleep(Math.max(0, pausedAt + STALENESS_MS + 100 - Date.now()));
        expectUnavailable(await me(other.accessToken));
        const started = Date.now();
        expectUnavailable(await refreshViaBody(t.http, s.refreshToken));
        expect(Date.now() - started).toBeLessThan(10_000); // bounded by the command timeout, not hanging
        await redis.resume();
        resumed = true;
      } finally {
        if (!resumed) await redis.resume();
      }

      expect(await eventually(async () => (await ready()).status === 200, 10_000, 100)).toBe(true);
      // The refresh that timed out may have been applied once Redis woke up; presenting the same
      // token again then returns that same successor (it was never used): the client loses nothing.
      const retried = await refreshViaBody(t.http, s.refreshToken);
      expect(retried.status).toBe(200);
      const next = await refreshViaBody(t.http, retried.body.refreshToken);
      expect(next.status).toBe(200);
      expect((await me(next.body.accessToken)).status).toBe(200);
      // The other session was not touched by any of it.
      expect((await refreshViaBody(t.http, other.refreshToken)).status).toBe(200);
      const list = await request(t.http).get('/auth/sessions').set('Authorization', bearer(next.body.accessToken));
      expect(list.status).toBe(200);
      expect(list.body.sessions.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([s.sid, other.sid]));
    }, 60_000);
  });

  it('logged each 503 as a warning for the operator, and no error', () => {
    const alarms = alarmsOf(logs);
    expect(alarms.length).toBeGreaterThan(0);
    for (const line of alarms) expect(line).toMatch(STORE_UNAVAILABLE_WARNING);
  });
});

describe('booting while Redis is down', () => {
  let redis: RedisHarness;
  const logs = new RecordingLogger();
  let t: TestApp;

  beforeAll(async () => {
    redis = await startRedis();
    await redis.stop();
    t = await createTestApp({ redis: redis.url, logger: logs });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('the app boots, answers 503 for state changes, and serves once Redis appears', async () => {
    expect((await request(t.http).get('/health/live')).status).toBe(200);
    expect((await request(t.http).get('/health/ready')).status).toBe(503);
    const { email } = await register(t.http, uniqueEmail('boot-down'));
    expectUnavailable(await request(t.http).post('/auth/login').send({ email, password: PASSWORD }));

    await redis.start();
    expect(await eventually(async () => (await request(t.http).get('/health/ready')).status === 200, 15_000, 100)).toBe(true);
    const s = await registerAndLogin(t.http, { tag: 'boot-up' });
    expect((await request(t.http).get('/auth/me').set('Authorization', bearer(s.accessToken))).status).toBe(200);
    expect((await refreshViaBody(t.http, s.refreshToken)).status).toBe(200);

    // What the operator is told: Redis unreachable at boot (the one error), the revocation list
    // not loaded yet, and the 503.
    const alarms = alarmsOf(logs);
    expect(alarms.filter((line) => line.startsWith('ERROR'))).toEqual([
      'ERROR [AuthModule] Redis is unreachable; state-changing endpoints answer 503 until it is back',
    ]);
    expect(alarms).toContain('WARN [RevocationView] revocation list not loaded at start; the guard will retry');
    expect(alarms.filter((line) => line.startsWith('WARN') && !line.includes('[RevocationView]'))).toEqual([
      expect.stringMatching(STORE_UNAVAILABLE_WARNING),
    ]);
  }, 60_000);
});

describe('PostgreSQL (users database) outage', () => {
  let db: { url: string; drop(): Promise<void> };
  /** In front of PostgreSQL: cut, connections are refused and dropped. */
  let proxy: TcpProxy;
  let t: TestApp;
  const logs = new RecordingLogger();

  beforeAll(async () => {
    db = await createTestDatabase();
    const direct = new URL(db.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    t = await createTestApp({ logger: logs, env: { DATABASE_URL: viaProxy.toString() } });
  }, 60_000);
  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('register and login answer 503 STORE_UNAVAILABLE (uniformly for known and unknown emails); sessions carry on', async () => {
    const s = await registerAndLogin(t.http, { tag: 'pg-down' });
    await proxy.cut();
    try {
      expectUnavailable(await request(t.http).post('/auth/register').send({ email: uniqueEmail('pg-down-new'), password: PASSWORD }));
      const known = await request(t.http).post('/auth/login').send({ email: s.email, password: PASSWORD });
      const unknown = await request(t.http).post('/auth/login').send({ email: uniqueEmail('pg-nobody'), password: PASSWORD });
      expectUnavailable(known);
      expectUnavailable(unknown);
      expect(known.text).toBe(unknown.text);
      // Readiness tells the balancer: the user database is down.
      const notReady = await request(t.http).get('/health/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body.checks.userDatabase).toBe('down');
      // Sessions live in Redis: refresh, the guard and logout do not need the users database.
      const refreshed = await refreshViaBody(t.http, s.refreshToken);
      expect(refreshed.status).toBe(200);
      expect((await request(t.http).get('/auth/me').set('Authorization', bearer(refreshed.body.accessToken))).status).toBe(200);
      expect((await request(t.http).get('/auth/sessions').set('Authorization', bearer(refreshed.body.accessToken))).status).toBe(200);
    } finally {
      await proxy.restore();
    }
    // Back: the pool reconnects on the next query.
    const readyAgain = await request(t.http).get('/health/ready');
    expect(readyAgain.status).toBe(200);
    expect(readyAgain.body.checks.userDatabase).toBe('up');
    const again = await login(t.http, s.email);
    expect((await request(t.http).get('/auth/me').set('Authorization', bearer(again.accessToken))).status).toBe(200);
    expect((await request(t.http).post('/auth/register').send({ email: uniqueEmail('pg-back'), password: PASSWORD })).status).toBe(201);

    // The pool's idle connections were cut: logged as errors (one per idle client), and every
    // 503 as a warning; nothing else.
    const alarms = alarmsOf(logs);
    const errors = alarms.filter((line) => line.startsWith('ERROR'));
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) expect(line).toMatch(/^ERROR \[UsersDatabase\] PostgreSQL idle client error: /);
    const warnings = alarms.filter((line) => !line.startsWith('ERROR'));
    expect(warnings).toHaveLength(3); // register, and login for a known and an unknown email
    for (const line of warnings) expect(line).toMatch(STORE_UNAVAILABLE_WARNING);
  }, 60_000);
});
