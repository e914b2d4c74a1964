import request from 'supertest';
import { FakeClock } from '../support/fake-clock';
import {
  bearer,
  createTestApp,
  decodeJwt,
  expectProblem,
  PASSWORD,
  login,
  refreshCookieOf,
  refreshViaBody,
  register,
  registerAndLogin,
  REFRESH_COOKIE,
  setCookies,
  uniqueEmail,
  type LoggedIn,
  type TestApp,
} from '../support/test-app';

/**
 * The session lifecycle over HTTP, on the real AppModule with Redis and PostgreSQL: register,
 * login (cookie and body delivery), the access token's shape, rotation, the retried token, theft
 * detection with both compromise actions, and the idle, absolute and access-token lifetimes
 * (driven by a fake clock).
 */
const IDLE_TTL = 600;
const ABSOLUTE_TTL = 1800;
const GRACE = 10;

describe('session lifecycle (Redis + PostgreSQL)', () => {
  const clock = new FakeClock();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      clock,
      env: {
        REFRESH_TOKEN_TTL: String(IDLE_TTL),
        REFRESH_STORAGE_TTL: String(ABSOLUTE_TTL),
        REFRESH_REUSE_GRACE: String(GRACE),
        AUTH_COMPROMISE_ACTION: 'REVOKE_ALL',
      },
    });
  });
  afterAll(() => t?.close());

  const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));

  describe('register and login', () => {
    it('registers: 201 {id, email} with the address as typed (trimmed) and nothing else', async () => {
      const email = uniqueEmail('Reg');
      const res = await request(t.http).post('/auth/register').send({ email: `  ${email.toUpperCase()} `, password: 'a perfectly fine passphrase' });
      expect(res.status).toBe(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ id: expect.any(String), email: email.toUpperCase() });
      expect(res.body.id.length).toBeGreaterThan(0);
    });

    it('a Unicode look-alike of a registered address (full-width) is the same account: 409, and it signs in', async () => {
      const email = uniqueEmail('ada');
      expect((await request(t.http).post('/auth/register').send({ email, password: PASSWORD })).status).toBe(201);
      const wide = [...email].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');
      expectProblem(await request(t.http).post('/auth/register').send({ email: wide, password: PASSWORD }), 409, 'EMAIL_TAKEN');
      expect((await request(t.http).post('/auth/login').send({ email: wide, password: PASSWORD })).status).toBe(200);
    });

    it('logs in with the refresh token in a __Secure- cookie by default (HttpOnly, Secure, Lax, /auth, Max-Age)', async () => {
      const { email } = await register(t.http, uniqueEmail('cookie'));
      const res = await request(t.http).post('/auth/login').send({ email, password: 'correct horse battery staple 42' });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });

      const cookies = setCookies(res);
      expect(cookies).toHaveLength(1);
      const cookie = refreshCookieOf(res);
      expect(cookie).toBeDefined();
      expect(cookie!.name).toBe(REFRESH_COOKIE);
      expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
      expect(cookie!.attributes).toEqual(
        expect.objectContaining({ httponly: '', secure: '', samesite: 'Lax', path: '/auth', 'max-age': String(IDLE_TTL) }),
      );
      expect(cookie!.attributes).not.toHaveProperty('domain');
    });

    it('logs in with the refresh token in the body when asked, and then sets no cookie', async () => {
      const { email } = await register(t.http, uniqueEmail('body'));
      const res = await request(t.http)
        .post('/auth/login')
        .send({ email, password: 'correct horse battery staple 42', refreshTokenDelivery: 'body' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/),
        refreshExpiresIn: IDLE_TTL,
      });
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });

  describe('the access token', () => {
    let s: LoggedIn;
    beforeAll(async () => {
      s = await registerAndLogin(t.http, { tag: 'jwt' });
    });

    it('is an ES256 at+jwt whose kid is in /.well-known/jwks.json (public parts only)', async () => {
      const { header } = decodeJwt(s.accessToken);
      expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
      const jwks = await request(t.http).get('/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      const keys = jwks.body.keys as Array<Record<string, string>>;
      const key = keys.find((k) => k.kid === header.kid);
      expect(key).toEqual(expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', x: expect.any(String), y: expect.any(String) }));
      for (const k of keys) expect(k).not.toHaveProperty('d');
    });

    it('carries exactly iss aud client_id sub sid jti iat exp auth_time, and nothing personal', () => {
      const { payload } = decodeJwt(s.accessToken);
      expect(Object.keys(payload).sort()).toEqual(['aud', 'auth_time', 'client_id', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
      expect(payload).toEqual(
        expect.objectContaining({ iss: t.config.jwt.issuer, aud: t.config.jwt.audience, client_id: t.config.jwt.clientId, sub: s.userId, sid: s.sid }),
      );
      expect((payload.exp as number) - (payload.iat as number)).toBe(900);
      expect(payload.auth_time).toBe(payload.iat);
      const text = Buffer.from(s.accessToken.split('.')[1], 'base64url').toString('utf8');
      expect(text).not.toContain(s.email);
      expect(text).not.toContain('@');
    });

    it('GET /auth/me answers the principal {sub, sid} and nothing else', async () => {
      const res = await me(s.accessToken);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ sub: s.userId, sid: s.sid });
    });

    it('is accepted up to exp + 30 s and then answers 401 ACCESS_TOKEN_EXPIRED', async () => {
      const fresh = await login(t.http, s.email);
      expect((await me(fresh.accessToken)).status).toBe(200);
      clock.advanceSeconds(900 + 28);
      expect((await me(fresh.accessToken)).status).toBe(200);
      clock.advanceSeconds(3);
      const res = await me(fresh.accessToken);
      expectProblem(res, 401, 'ACCESS_TOKEN_EXPIRED');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });
  });

  describe('rotation', () => {
    it('rotates via the cookie: 200, a new cookie, no refresh token in the body, the same session', async () => {
      const { email } = await register(t.http, uniqueEmail('rot-cookie'));
      const first = await request(t.http).post('/auth/login').send({ email, password: 'correct horse battery staple 42' });
      const c1 = refreshCookieOf(first)!;
      const res = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${c1.value}`);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
      const c2 = refreshCookieOf(res);
      expect(c2).toBeDefined();
      expect(c2!.value).not.toBe(c1.value);
      expect(c2!.attributes).toEqual(expect.objectContaining({ httponly: '', secure: '', samesite: 'Lax', path: '/auth' }));
      expect(decodeJwt(res.body.accessToken).payload.sid).toBe(decodeJwt(first.body.accessToken).payload.sid);
      expect((await me(res.body.accessToken)).status).toBe(200);
      // And the new cookie rotates again.
      const again = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${c2!.value}`);
      expect(again.status).toBe(200);
      expect(refreshCookieOf(again)!.value).not.toBe(c2!.value);
    });

    it('the refresh cookie only from our own origin: a cross-site or header-less refresh or logout → 403 CSRF_TOKEN_INVALID, nothing rotates or ends', async () => {
      const { email } = await register(t.http, uniqueEmail('rot-origin'));
      const first = await request(t.http).post('/auth/login').send({ email, password: 'correct horse battery staple 42' });
      const jar = `${REFRESH_COOKIE}=${refreshCookieOf(first)!.value}`;
      const self = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
      const crossSite = { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site', Cookie: jar };
      expectProblem(await request(t.http).post('/auth/refresh').set(crossSite), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await request(t.http).post('/auth/logout').set(crossSite), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await request(t.http).post('/auth/refresh').set({ Origin: 'https://evil.example', Cookie: jar }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await request(t.http).post('/auth/refresh').set({ 'Sec-Fetch-Site': 'same-site', Cookie: jar }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await request(t.http).post('/auth/refresh').set('Cookie', jar), 403, 'CSRF_TOKEN_INVALID');
      // The session was neither rotated nor ended: the same cookie still works from our origin.
      expect((await me(first.body.accessToken)).status).toBe(200);
      expect((await request(t.http).post('/auth/refresh').set({ Origin: self, Cookie: jar })).status).toBe(200);
    });

    it('rotates via the body: the new refresh token comes back in the body, no cookie', async () => {
      const s = await registerAndLogin(t.http, { tag: 'rot-body' });
      const res = await refreshViaBody(t.http, s.refreshToken);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshToken: expect.any(String),
        refreshExpiresIn: IDLE_TTL,
      });
      expect(res.body.refreshToken).not.toBe(s.refreshToken);
      expect(res.headers['set-cookie']).toBeUndefined();
      const claims = decodeJwt(res.body.accessToken).payload;
      expect(claims.sid).toBe(s.sid);
      // auth_time stays the login's: a refresh is not a fresh authentication.
      expect(claims.auth_time).toBe(decodeJwt(s.accessToken).payload.auth_time);
    });

    it('a chain of refreshes: every access token is accepted and keeps the login\'s auth_time', async () => {
      const s = await registerAndLogin(t.http, { tag: 'chain' });
      let token = s.refreshToken;
      for (let i = 0; i < 12; i++) {
        const res = await refreshViaBody(t.http, token);
        expect(res.status).toBe(200);
        expect((await me(res.body.accessToken)).body).toEqual({ sub: s.userId, sid: s.sid });
        expect(decodeJwt(res.body.accessToken).payload.auth_time).toBe(decodeJwt(s.accessToken).payload.auth_time);
        token = res.body.refreshToken;
      }
    });

    it('the previous token returns the SAME successor while that is unused, within the grace or long after', async () => {
      const s = await registerAndLogin(t.http, { tag: 'replayed' });
      const first = await refreshViaBody(t.http, s.refreshToken);
      expect(first.status).toBe(200);
      clock.advanceSeconds(GRACE - 2);
      const second = await refreshViaBody(t.http, s.refreshToken);
      expect(second.status).toBe(200);
      expect(second.body.refreshToken).toBe(first.body.refreshToken);
      expect(decodeJwt(second.body.accessToken).payload.sid).toBe(s.sid);
      clock.advanceSeconds(IDLE_TTL - GRACE); // well past the grace, just within the idle timeout
      const late = await refreshViaBody(t.http, s.refreshToken);
      expect(late.status).toBe(200);
      expect(late.body.refreshToken).toBe(first.body.refreshToken);
      // The successor is still the live token.
      const third = await refreshViaBody(t.http, first.body.refreshToken);
      expect(third.status).toBe(200);
      expect(third.body.refreshToken).not.toBe(first.body.refreshToken);
    });

    it('a refresh without any token is 401 REFRESH_TOKEN_MISSING; a made-up one 401 REFRESH_TOKEN_INVALID', async () => {
      expectProblem(await request(t.http).post('/auth/refresh'), 401, 'REFRESH_TOKEN_MISSING');
      expectProblem(await refreshViaBody(t.http, 'not-a-token'), 401, 'REFRESH_TOKEN_INVALID');
      // A well-formed token for a live session but with a secret and tag we never issued: invalid,
      // and it must not be able to revoke the victim's session.
      const s = await registerAndLogin(t.http, { tag: 'forged-refresh' });
      const [u, sid] = s.refreshToken.split('.');
      const forged = `${u}.${sid}.${'A'.repeat(43)}.${'A'.repeat(22)}`;
      expectProblem(await refreshViaBody(t.http, forged), 401, 'REFRESH_TOKEN_INVALID');
      expect((await me(s.accessToken)).status).toBe(200);
      expect((await refreshViaBody(t.http, s.refreshToken)).status).toBe(200);
    });
  });

  describe('reuse detection (AUTH_COMPROMISE_ACTION=REVOKE_ALL)', () => {
    it('the previous token once its successor was used is 401 REFRESH_TOKEN_REUSED and kills every session of the user', async () => {
      const victim = await registerAndLogin(t.http, { tag: 'theft' });
      const otherDevice = await login(t.http, victim.email);
      const bystander = await registerAndLogin(t.http, { tag: 'bystander' });

      const first = await refreshViaBody(t.http, victim.refreshToken);
      expect(first.status).toBe(200);
      const rotated = await refreshViaBody(t.http, first.body.refreshToken);
      expect(rotated.status).toBe(200);

      const reuse = await refreshViaBody(t.http, victim.refreshToken);
      expectProblem(reuse, 401, 'REFRESH_TOKEN_REUSED');

      // The session is dead: its access tokens (old and new) and its newest refresh token.
      expectProblem(await me(victim.accessToken), 401, 'SESSION_REVOKED');
      expectProblem(await me(rotated.body.accessToken), 401, 'SESSION_REVOKED');
      expectProblem(await refreshViaBody(t.http, rotated.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
      // REVOKE_ALL: so is the user's other session.
      expectProblem(await me(otherDevice.accessToken), 401, 'SESSION_REVOKED');
      expectProblem(await refreshViaBody(t.http, otherDevice.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
      // Nobody else is affected, and the victim can log in again.
      expect((await me(bystander.accessToken)).status).toBe(200);
      expect((await refreshViaBody(t.http, bystander.refreshToken)).status).toBe(200);
      const again = await login(t.http, victim.email);
      expect((await me(again.accessToken)).status).toBe(200);
      expect((await refreshViaBody(t.http, again.refreshToken)).status).toBe(200);
    });

    it('reuse over the cookie also answers REFRESH_TOKEN_REUSED and clears the cookie', async () => {
      const { email } = await register(t.http, uniqueEmail('theft-cookie'));
      const loginRes = await request(t.http).post('/auth/login').send({ email, password: 'correct horse battery staple 42' });
      const old = refreshCookieOf(loginRes)!.value;
      const next = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${old}`);
      expect(next.status).toBe(200);
      const used = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${refreshCookieOf(next)!.value}`);
      expect(used.status).toBe(200);
      const res = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${old}`);
      expectProblem(res, 401, 'REFRESH_TOKEN_REUSED');
      const cleared = refreshCookieOf(res);
      expect(cleared).toBeDefined();
      expect(cleared!.value).toBe('');
      expect(cleared!.attributes.path).toBe('/auth');
      expect(new Date(cleared!.attributes.expires).getTime()).toBeLessThan(Date.now());
      expectProblem(await me(loginRes.body.accessToken), 401, 'SESSION_REVOKED');
    });

    it('a token two rotations old is theft at once, the newest successor unused or not', async () => {
      const s = await registerAndLogin(t.http, { tag: 'two-old' });
      const r1 = await refreshViaBody(t.http, s.refreshToken);
      const r2 = await refreshViaBody(t.http, r1.body.refreshToken);
      expect(r2.status).toBe(200);
      expectProblem(await refreshViaBody(t.http, s.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
      expectProblem(await me(r2.body.accessToken), 401, 'SESSION_REVOKED');
      expectProblem(await refreshViaBody(t.http, r2.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    });
  });

  describe('lifetimes', () => {
    it('idle: each refresh slides the idle window; unused past REFRESH_TOKEN_TTL it is 401 SESSION_EXPIRED, then INVALID', async () => {
      const s = await registerAndLogin(t.http, { tag: 'idle' });
      clock.advanceSeconds(IDLE_TTL - 20);
      const r1 = await refreshViaBody(t.http, s.refreshToken);
      expect(r1.status).toBe(200);
      clock.advanceSeconds(IDLE_TTL - 20); // 1160 s after login: alive only because the refresh slid it
      const r2 = await refreshViaBody(t.http, r1.body.refreshToken);
      expect(r2.status).toBe(200);
      clock.advanceSeconds(IDLE_TTL + 1);
      expectProblem(await refreshViaBody(t.http, r2.body.refreshToken), 401, 'SESSION_EXPIRED');
      // The expired session is gone for good.
      expectProblem(await refreshViaBody(t.http, r2.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    });

    it('absolute: past REFRESH_STORAGE_TTL the session is dead however active; refreshExpiresIn shrinks towards it', async () => {
      const s = await registerAndLogin(t.http, { tag: 'absolute' });
      let token = s.refreshToken;
      let elapsed = 0;
      const step = 500;
      while (elapsed + step < ABSOLUTE_TTL) {
        clock.advanceSeconds(step);
        elapsed += step;
        const res = await refreshViaBody(t.http, token);
        expect(res.status).toBe(200);
        expect(res.body.refreshExpiresIn).toBeLessThanOrEqual(Math.min(IDLE_TTL, ABSOLUTE_TTL - elapsed));
        token = res.body.refreshToken;
      }
      // 1500 s in: 300 s left, so the refresh token may be kept at most that long.
      expect(elapsed).toBe(1500);
      clock.advanceSeconds(ABSOLUTE_TTL - elapsed + 1);
      const dead = await refreshViaBody(t.http, token);
      expectProblem(dead, 401, 'SESSION_EXPIRED');
      expectProblem(await refreshViaBody(t.http, token), 401, 'REFRESH_TOKEN_INVALID');
    });

    it('the cookie Max-Age is capped by the time the session has left', async () => {
      const { email } = await register(t.http, uniqueEmail('cap'));
      const res = await request(t.http).post('/auth/login').send({ email, password: 'correct horse battery staple 42' });
      let cookie = refreshCookieOf(res)!.value;
      for (let i = 0; i < 3; i++) {
        clock.advanceSeconds(500);
        const r = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${cookie}`);
        expect(r.status).toBe(200);
        cookie = refreshCookieOf(r)!.value;
        if (i === 2) {
          const maxAge = Number(refreshCookieOf(r)!.attributes['max-age']);
          expect(maxAge).toBeLessThanOrEqual(ABSOLUTE_TTL - 1500);
          expect(maxAge).toBeGreaterThan(ABSOLUTE_TTL - 1500 - 5);
        }
      }
    });
  });
});

describe('reuse detection with AUTH_COMPROMISE_ACTION=REVOKE_SESSION', () => {
  const clock = new FakeClock();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ clock, env: { AUTH_COMPROMISE_ACTION: 'REVOKE_SESSION', REFRESH_REUSE_GRACE: String(GRACE) } });
  });
  afterAll(() => t?.close());

  it('revokes only the session whose token was replayed', async () => {
    const victim = await registerAndLogin(t.http, { tag: 'one-session' });
    const otherDevice = await login(t.http, victim.email);
    const first = await refreshViaBody(t.http, victim.refreshToken);
    const rotated = await refreshViaBody(t.http, first.body.refreshToken);
    expect(rotated.status).toBe(200);

    expectProblem(await refreshViaBody(t.http, victim.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    expectProblem(await request(t.http).get('/auth/me').set('Authorization', bearer(rotated.body.accessToken)), 401, 'SESSION_REVOKED');
    expectProblem(await refreshViaBody(t.http, rotated.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');

    const other = await request(t.http).get('/auth/me').set('Authorization', bearer(otherDevice.accessToken));
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ sub: victim.userId, sid: otherDevice.sid });
    expect((await refreshViaBody(t.http, otherDevice.refreshToken)).status).toBe(200);
  });
});
