import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';

// PGlite's CommonJS build loads node builtins with a dynamic import(), which code evaluated in
// Jest's module sandbox may not do unless node runs with --experimental-vm-modules. Load it with
// node's own require (Jest's `module.createRequire` would lead back into the sandbox): src's
// createPgliteClient still imports '@electric-sql/pglite' and gets this copy.
jest.mock('@electric-sql/pglite', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runInThisContext } = require('node:vm') as typeof import('node:vm');
  const realProcess = runInThisContext('process') as NodeJS.Process & { getBuiltinModule(id: string): unknown };
  const { createRequire } = realProcess.getBuiltinModule('node:module') as typeof import('node:module');
  return createRequire(__filename)('@electric-sql/pglite') as unknown;
});
import { FakeClock } from '../support/fake-clock';
import {
  bearer,
  createTestApp,
  expectProblem,
  login,
  PASSWORD,
  refreshCookieOf,
  refreshViaBody,
  register,
  registerAndLogin,
  REFRESH_COOKIE,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/**
 * The embedded default (`npm start` on a machine without Redis or PostgreSQL): no REDIS_URL, no
 * DATABASE_URL, so in-memory session/revocation stores and an in-memory PGlite user database.
 * The same HTTP contract holds.
 */
describe('embedded mode (in-memory stores + PGlite)', () => {
  const clock = new FakeClock();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ redis: false, database: 'embedded', clock, env: { REFRESH_TOKEN_TTL: '600', REFRESH_STORAGE_TTL: '3600' } });
  }, 60_000);
  afterAll(() => t?.close());

  const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));

  it('really runs without Redis and PostgreSQL, and reports ready', async () => {
    expect(t.config.redisUrl).toBeNull();
    expect(t.config.databaseUrl).toBeNull();
    expect(t.config.embeddedDataDir).toBe(':memory:');
    const ready = await request(t.http).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ sessionStore: 'up', revocationStore: 'up', revocationFeed: 'up', userDatabase: 'up' });
  });

  it('register → login (cookie) → me → refresh (cookie) → logout', async () => {
    const email = uniqueEmail('embedded');
    const reg = await request(t.http).post('/auth/register').send({ email, password: PASSWORD });
    expect(reg.status).toBe(201);
    expect(reg.body).toEqual({ id: expect.any(String), email });
    expectProblem(await request(t.http).post('/auth/register').send({ email, password: PASSWORD }), 409, 'EMAIL_TAKEN');

    const loginRes = await request(t.http).post('/auth/login').send({ email, password: PASSWORD });
    expect(loginRes.status).toBe(200);
    expect(loginRes.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
    const c1 = refreshCookieOf(loginRes)!;
    expect(c1.attributes).toEqual(expect.objectContaining({ httponly: '', secure: '', samesite: 'Lax', path: '/auth' }));

    const who = await me(loginRes.body.accessToken);
    expect(who.status).toBe(200);
    expect(who.body).toEqual({ sub: reg.body.id, sid: expect.any(String) });

    const refreshed = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${c1.value}`);
    expect(refreshed.status).toBe(200);
    const c2 = refreshCookieOf(refreshed)!;
    expect(c2.value).not.toBe(c1.value);

    const out = await request(t.http)
      .post('/auth/logout')
      .set('Authorization', bearer(refreshed.body.accessToken))
      .set('Cookie', `${REFRESH_COOKIE}=${c2.value}`);
    expect(out.status).toBe(204);
    expect(refreshCookieOf(out)?.value).toBe('');
    expectProblem(await me(refreshed.body.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${c2.value}`), 401, 'REFRESH_TOKEN_INVALID');
  });

  it('wrong password and unknown email are the same 401 INVALID_CREDENTIALS', async () => {
    const { email } = await register(t.http, uniqueEmail('embedded-cred'));
    const wrong = await request(t.http).post('/auth/login').send({ email, password: 'wrong password entirely' });
    const unknown = await request(t.http).post('/auth/login').send({ email: uniqueEmail('nobody'), password: PASSWORD });
    expectProblem(wrong, 401, 'INVALID_CREDENTIALS');
    expect(wrong.text).toBe(unknown.text);
  });

  it('body delivery, the grace successor, and reuse detection (REVOKE_ALL) behave as with Redis', async () => {
    const s = await registerAndLogin(t.http, { tag: 'embedded-reuse' });
    const other = await login(t.http, s.email);
    const r1 = await refreshViaBody(t.http, s.refreshToken);
    expect(r1.status).toBe(200);
    const again = await refreshViaBody(t.http, s.refreshToken);
    expect(again.status).toBe(200);
    expect(again.body.refreshToken).toBe(r1.body.refreshToken);

    // Long after the grace, still the same successor while it is unused.
    clock.advanceSeconds(t.config.refreshReuseGrace + 1);
    expect((await refreshViaBody(t.http, s.refreshToken)).body.refreshToken).toBe(r1.body.refreshToken);
    const r2 = await refreshViaBody(t.http, r1.body.refreshToken);
    expect(r2.status).toBe(200);
    // Its successor used, the first token is theft.
    expectProblem(await refreshViaBody(t.http, s.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    expectProblem(await me(r2.body.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await me(other.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await refreshViaBody(t.http, r2.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await refreshViaBody(t.http, other.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    // A new login after the revoke-all works.
    const fresh = await login(t.http, s.email);
    expect((await me(fresh.accessToken)).status).toBe(200);
  });

  it('50 parallel refreshes of one token: one successor', async () => {
    const s = await registerAndLogin(t.http, { tag: 'embedded-race' });
    const responses = await Promise.all(Array.from({ length: 50 }, () => refreshViaBody(t.http, s.refreshToken)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(new Set(responses.map((r) => r.body.refreshToken)).size).toBe(1);
    expect((await refreshViaBody(t.http, responses[0].body.refreshToken)).status).toBe(200);
  });

  it('idle expiry, sessions list, revoking one session and logout-all', async () => {
    const s = await registerAndLogin(t.http, { tag: 'embedded-sessions', userAgent: 'curl/8.5.0' });
    const idle = await login(t.http, s.email);
    const third = await login(t.http, s.email);

    const list = await request(t.http).get('/auth/sessions').set('Authorization', bearer(s.accessToken));
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(3);
    expect(list.body.sessions.find((x: { id: string }) => x.id === s.sid)).toEqual(
      expect.objectContaining({ deviceLabel: 'curl', current: true }),
    );

    expect((await request(t.http).delete(`/auth/sessions/${third.sid}`).set('Authorization', bearer(s.accessToken))).status).toBe(204);
    expectProblem(await me(third.accessToken), 401, 'SESSION_REVOKED');

    clock.advanceSeconds(300);
    const kept = await refreshViaBody(t.http, s.refreshToken);
    expect(kept.status).toBe(200);
    clock.advanceSeconds(301);
    expectProblem(await refreshViaBody(t.http, idle.refreshToken), 401, 'SESSION_EXPIRED');

    // logout-all needs a recent sign-in (AUTH_REAUTH_MAX_AGE, 300 s): the refreshed token's auth_time is 601 s old.
    expectProblem(await request(t.http).post('/auth/logout-all').set('Authorization', bearer(kept.body.accessToken)), 401, 'REAUTHENTICATION_REQUIRED');
    const fresh = await login(t.http, s.email);
    expect((await request(t.http).post('/auth/logout-all').set('Authorization', bearer(fresh.accessToken))).status).toBe(204);
    expectProblem(await me(kept.body.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await refreshViaBody(t.http, kept.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
  });

  it("errors keep their shape: auth's validation and missing token; the host's unknown route", async () => {
    expectProblem(await request(t.http).post('/auth/login').send({ email: 1 }), 400, 'VALIDATION_FAILED');
    expectProblem(await request(t.http).post('/auth/login').set('Content-Type', 'text/plain').send('{'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect((await request(t.http).get('/nope')).body).toEqual(expect.objectContaining({ statusCode: 404 }));
    expectProblem(await request(t.http).get('/notes'), 401, 'ACCESS_TOKEN_MISSING');
  });
});

/**
 * The embedded default with a data directory (EMBEDDED_DATA_DIR, as `npm start` uses ./data):
 * users in PGlite there, sessions and revocations in its auth-state.json. What was promised before
 * a restart holds after it: a logout stays a logout, a live session stays live.
 */
describe('embedded mode across a restart (same data directory and keys)', () => {
  const root = mkdtempSync(join(tmpdir(), 'embedded-restart-'));
  const env = {
    EMBEDDED_DATA_DIR: join(root, 'data'),
    JWT_PRIVATE_KEY_PATH: join(root, 'keys', 'private.pem'),
    JWT_PUBLIC_KEY_PATH: join(root, 'keys', 'public.pem'),
  };
  const boot = () => createTestApp({ redis: false, database: 'embedded', env });
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('a logout, a logout-all and a rotation from before the restart hold after it', async () => {
    t = await boot();
    const loggedOut = await registerAndLogin(t.http, { tag: 'restart-logout' });
    const live = await login(t.http, loggedOut.email);
    const rotated = await refreshViaBody(t.http, live.refreshToken);
    expect(rotated.status).toBe(200);
    expect((await request(t.http).post('/auth/logout').set('Authorization', bearer(loggedOut.accessToken))).status).toBe(204);
    const everywhere = await registerAndLogin(t.http, { tag: 'restart-logout-all' });
    const elsewhere = await login(t.http, everywhere.email);
    expect((await request(t.http).post('/auth/logout-all').set('Authorization', bearer(everywhere.accessToken))).status).toBe(204);
    await t.close();

    t = await boot();
    const me = (token: string) => request(t!.http).get('/auth/me').set('Authorization', bearer(token));
    // The logged-out session: its access token and its refresh token stay refused.
    expectProblem(await me(loggedOut.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await refreshViaBody(t.http, loggedOut.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    // Every session of the user who logged out everywhere, too.
    expectProblem(await me(everywhere.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await me(elsewhere.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await refreshViaBody(t.http, elsewhere.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    // The live session carries on from its latest refresh token; the one it replaced is theft.
    expect((await me(rotated.body.accessToken)).body).toEqual({ sub: live.userId, sid: live.sid });
    const next = await refreshViaBody(t.http, rotated.body.refreshToken);
    expect(next.status).toBe(200);
    // A token two rotations old is theft, as before the restart.
    expectProblem(await refreshViaBody(t.http, live.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    // And the users themselves are still there.
    expect((await login(t.http, everywhere.email)).userId).toBe(everywhere.userId);

    // Where it was kept: beside the user database, with only hashes of refresh secrets.
    const stateFile = readFileSync(join(env.EMBEDDED_DATA_DIR, 'auth-state.json'), 'utf8');
    expect(stateFile).toContain(loggedOut.sid);
    expect(stateFile).not.toContain(next.body.refreshToken);
  }, 60_000);
});
