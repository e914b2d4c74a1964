import Redis from 'ioredis';
import request from 'supertest';
import { FakeClock } from '../support/fake-clock';
import {
  bearer,
  CHROME_ON_MACOS,
  createTestApp,
  expectProblem,
  login,
  parseSetCookie,
  PASSWORD,
  refreshViaBody,
  register,
  setCookies,
  uniqueEmail,
  type ParsedCookie,
  type TestApp,
} from '../support/test-app';

/**
 * The browser profile (DESIGN client profile 1): an opaque `__Host-session` cookie backed by the
 * session store, CSRF on every unsafe method, server-side idle and absolute timeouts, the same
 * session list and revocation as API sessions.
 */
const COOKIE = '__Host-session';
const IDLE = 1800;
const ABSOLUTE = 43200;
const TOUCH = 60;

interface Browser {
  readonly email: string;
  readonly cookie: string;
  readonly csrfToken: string;
  readonly sub: string;
  readonly sid: string;
}

function sessionCookieOf(res: request.Response): ParsedCookie | undefined {
  return setCookies(res)
    .map(parseSetCookie)
    .find((c) => c.name === COOKIE);
}

describe('browser sessions (Redis + PostgreSQL)', () => {
  const clock = new FakeClock();
  let t: TestApp;
  let origin: string;

  beforeAll(async () => {
    t = await createTestApp({ clock });
    origin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
  });
  afterAll(() => t?.close());

  const browserLogin = (email: string, headers: Record<string, string> = {}) =>
    request(t.http)
      .post('/auth/browser/login')
      .set({ Origin: origin, 'Sec-Fetch-Site': 'same-origin', 'User-Agent': CHROME_ON_MACOS, ...headers })
      .send({ email, password: PASSWORD });

  async function signIn(email?: string): Promise<Browser> {
    const address = email ?? (await register(t.http, uniqueEmail('browser'))).email;
    const res = await browserLogin(address);
    if (res.status !== 200) throw new Error(`browser login: ${res.status} ${res.text}`);
    const cookie = sessionCookieOf(res)!.value;
    return { email: address, cookie, csrfToken: res.body.csrfToken, sub: res.body.sub, sid: res.body.sid };
  }

  /** A same-origin page request with the cookie (and, for unsafe methods, the CSRF token unless overridden). */
  function page(method: 'get' | 'post' | 'delete' | 'put' | 'patch', path: string, b: Browser, headers: Record<string, string | undefined> = {}) {
    const h: Record<string, string | undefined> = {
      Cookie: `${COOKIE}=${b.cookie}`,
      Origin: origin,
      'Sec-Fetch-Site': 'same-origin',
      'X-CSRF-Token': method === 'get' ? undefined : b.csrfToken,
      ...headers,
    };
    let req = request(t.http)[method](path);
    for (const [k, v] of Object.entries(h)) if (v !== undefined) req = req.set(k, v);
    return req;
  }
  const state = (b: Browser) => page('get', '/auth/browser/session', b);

  describe('login and the cookie', () => {
    it('sets __Host-session: HttpOnly, Secure, SameSite=Lax, Path=/, no Domain; the body has no token, only the CSRF token', async () => {
      const { email } = await register(t.http, uniqueEmail('cookie-attrs'));
      const res = await browserLogin(email);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const c = sessionCookieOf(res)!;
      expect(c).toBeDefined();
      expect(Object.keys(c.attributes)).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite', 'path']));
      expect(c.attributes.samesite).toBe('Lax');
      expect(c.attributes.path).toBe('/');
      expect(c.attributes.domain).toBeUndefined();
      expect(Number(c.attributes['max-age'])).toBe(ABSOLUTE);
      // Opaque and long: a 128-bit+ random part (80-bit sid randomness + 256-bit secret), never in the body.
      const [, sid, secret] = c.value.split('.');
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
      expect(res.body).toEqual({
        sub: expect.any(String),
        sid,
        csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        idleExpiresAt: expect.any(String),
        absoluteExpiresAt: expect.any(String),
      });
      expect(res.text).not.toContain(secret);
      expect(setCookies(res).some((h) => h.startsWith('__Secure-refresh_token'))).toBe(false);
    });

    it('the cookie authenticates the global guard (via session) on /auth/me and on a feature route', async () => {
      const b = await signIn();
      const me = await page('get', '/auth/me', b);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ sub: b.sub, sid: b.sid });
      expect((await page('get', '/notes', b)).status).toBe(200);
      const s = await state(b);
      expect(s.status).toBe(200);
      expect(s.body).toMatchObject({ sub: b.sub, sid: b.sid, csrfToken: b.csrfToken });
    });

    it('wrong password: 401 INVALID_CREDENTIALS and no cookie', async () => {
      const { email } = await register(t.http, uniqueEmail('browser-bad-pw'));
      const res = await request(t.http)
        .post('/auth/browser/login')
        .set({ Origin: origin })
        .send({ email, password: 'wrong password entirely' });
      expectProblem(res, 401, 'INVALID_CREDENTIALS');
      expect(sessionCookieOf(res)).toBeUndefined();
    });

    it('fixation: a new session id at every login; a cookie we never issued is not adopted; the presented one is ended', async () => {
      const b = await signIn();
      const forged = b.cookie.replace(/\.[^.]+$/, '.' + 'A'.repeat(22));
      const res = await browserLogin(b.email, { Cookie: `${COOKIE}=${forged}` });
      expect(res.status).toBe(200);
      const fresh = sessionCookieOf(res)!.value;
      expect(fresh).not.toBe(b.cookie);
      expect(fresh.split('.')[1]).not.toBe(b.sid);
      expectProblem(await page('get', '/auth/me', { ...b, cookie: forged }), 401, 'SESSION_COOKIE_INVALID');
      // Logging in again over a genuine cookie ends that session: one browser, one session.
      const again = await browserLogin(b.email, { Cookie: `${COOKIE}=${fresh}` });
      expect(again.status).toBe(200);
      expect(sessionCookieOf(again)!.value.split('.')[1]).not.toBe(fresh.split('.')[1]);
      expectProblem(await page('get', '/auth/me', { ...b, cookie: fresh }), 401, 'SESSION_REVOKED');
    });

    it('a made-up secret for a real sid, a refresh token as the cookie, and garbage are refused', async () => {
      const b = await signIn();
      const [u, sid] = b.cookie.split('.');
      const madeUp = `${u}.${sid}.${'B'.repeat(43)}.${'C'.repeat(22)}`;
      expectProblem(await page('get', '/auth/me', { ...b, cookie: madeUp }), 401, 'SESSION_COOKIE_INVALID');
      const api = await login(t.http, b.email);
      expectProblem(await page('get', '/auth/me', { ...b, cookie: api.refreshToken }), 401, 'SESSION_COOKIE_INVALID');
      expectProblem(await page('get', '/auth/me', { ...b, cookie: 'garbage' }), 401, 'SESSION_COOKIE_INVALID');
      // And the session cookie is never a refresh token.
      expectProblem(await refreshViaBody(t.http, b.cookie), 401, 'REFRESH_TOKEN_INVALID');
      expect((await page('get', '/auth/me', b)).status).toBe(200);
    });

    it('login CSRF: a browser login from a foreign origin, cross-site, or with no origin information is 403', async () => {
      const { email } = await register(t.http, uniqueEmail('login-csrf'));
      const foreign = await browserLogin(email, { Origin: 'http://127.0.0.1:1', 'Sec-Fetch-Site': 'same-site' });
      expectProblem(foreign, 403, 'CSRF_TOKEN_INVALID');
      expect(sessionCookieOf(foreign)).toBeUndefined();
      expectProblem(await browserLogin(email, { Origin: 'null', 'Sec-Fetch-Site': 'cross-site' }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await browserLogin(email, { 'Sec-Fetch-Site': 'cross-site' }), 403, 'CSRF_TOKEN_INVALID');
      const bare = await request(t.http).post('/auth/browser/login').send({ email, password: PASSWORD });
      expectProblem(bare, 403, 'CSRF_TOKEN_INVALID');
      // A form post cannot even reach it: the body must be JSON.
      const form = await request(t.http)
        .post('/auth/browser/login')
        .set({ Origin: origin })
        .type('form')
        .send(`email=${encodeURIComponent(email)}&password=x`);
      expectProblem(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('CSRF on unsafe methods', () => {
    it('missing, wrong, or another session\u2019s token: 403 CSRF_TOKEN_INVALID, and nothing changes', async () => {
      const b = await signIn();
      const other = await signIn(b.email);
      expectProblem(await page('post', '/auth/logout', b, { 'X-CSRF-Token': undefined }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/auth/logout', b, { 'X-CSRF-Token': 'A'.repeat(43) }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/auth/logout', b, { 'X-CSRF-Token': other.csrfToken }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/auth/logout-all', b, { 'X-CSRF-Token': '' }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('delete', `/auth/sessions/${other.sid}`, b, { 'X-CSRF-Token': other.csrfToken }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/notes', b, { 'X-CSRF-Token': undefined }).send({ text: 'x' }), 403, 'CSRF_TOKEN_INVALID');
      expect((await page('get', '/auth/me', b)).status).toBe(200);
      expect((await page('get', '/auth/me', other)).status).toBe(200);
    });

    it('the right token from a foreign origin (cross-site or same-site), or with no origin at all: 403', async () => {
      const b = await signIn();
      expectProblem(await page('post', '/auth/logout', b, { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/auth/logout', b, { Origin: 'http://127.0.0.1:1', 'Sec-Fetch-Site': 'same-site' }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/auth/logout', b, { Origin: 'null', 'Sec-Fetch-Site': undefined }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/auth/logout', b, { Origin: undefined, 'Sec-Fetch-Site': 'same-site' }), 403, 'CSRF_TOKEN_INVALID');
      expectProblem(await page('post', '/auth/logout', b, { Origin: undefined, 'Sec-Fetch-Site': undefined }), 403, 'CSRF_TOKEN_INVALID');
      // A matching Origin with a contradicting Sec-Fetch-Site is refused too.
      expectProblem(await page('post', '/auth/logout', b, { 'Sec-Fetch-Site': 'cross-site' }), 403, 'CSRF_TOKEN_INVALID');
      expect((await page('get', '/auth/me', b)).status).toBe(200);
      // Without Origin, Sec-Fetch-Site: same-origin vouches for the request.
      const noOrigin = await page('post', '/notes', b, { Origin: undefined }).send({ text: 'from the page' });
      expect(noOrigin.status).toBe(201);
    });

    it('an empty cross-site form post (no body, so not refused as 415) is refused by CSRF', async () => {
      const b = await signIn();
      const res = await request(t.http)
        .post('/auth/logout-all')
        .set({ Cookie: `${COOKIE}=${b.cookie}`, Origin: 'null', 'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/x-www-form-urlencoded' });
      expectProblem(res, 403, 'CSRF_TOKEN_INVALID');
      expect((await page('get', '/auth/me', b)).status).toBe(200);
    });

    it('with the token and our origin: unsafe methods work (feature route, revoke-one)', async () => {
      const b = await signIn();
      const created = await page('post', '/notes', b).send({ text: 'hello' });
      expect(created.status).toBe(201);
      const other = await signIn(b.email);
      expect((await page('delete', `/auth/sessions/${other.sid}`, b)).status).toBe(204);
      expectProblem(await page('get', '/auth/me', other), 401, 'SESSION_REVOKED');
    });

    it('bearer requests are not subject to CSRF (and the bearer wins over a cookie)', async () => {
      const b = await signIn();
      const api = await login(t.http, b.email);
      const res = await request(t.http)
        .post('/notes')
        .set({ Authorization: bearer(api.accessToken), Cookie: `${COOKIE}=${b.cookie}`, Origin: 'https://evil.example' })
        .send({ text: 'api' });
      expect(res.status).toBe(201);
      const me = await request(t.http).get('/auth/me').set({ Authorization: bearer(api.accessToken), Cookie: `${COOKIE}=${b.cookie}` });
      expect(me.body.sid).toBe(api.sid);
    });

    it('no state change is reachable by GET', async () => {
      const b = await signIn();
      for (const path of ['/auth/logout', '/auth/logout-all', '/auth/browser/login', `/auth/sessions/${b.sid}/delete`]) {
        const res = await page('get', path, b);
        expect([404, 405]).toContain(res.status);
      }
      expect((await page('get', '/auth/me', b)).status).toBe(200);
    });
  });

  describe('timeouts (injected clock)', () => {
    it(`idle: alive while used, dead ${IDLE} s after the last use`, async () => {
      const b = await signIn();
      clock.advanceSeconds(IDLE - 60);
      expect((await page('get', '/auth/me', b)).status).toBe(200); // touches: idle restarts
      clock.advanceSeconds(IDLE - 60);
      expect((await page('get', '/auth/me', b)).status).toBe(200);
      clock.advanceSeconds(IDLE);
      expectProblem(await page('get', '/auth/me', b), 401, 'SESSION_EXPIRED');
      // Logging out with the dead cookie succeeds and clears it.
      const out = await page('post', '/auth/logout', b);
      expect(out.status).toBe(204);
      expect(sessionCookieOf(out)?.value).toBe('');
    });

    it(`absolute: dead ${ABSOLUTE} s after login however active`, async () => {
      const b = await signIn();
      for (let elapsed = 0; elapsed + 1500 < ABSOLUTE; elapsed += 1500) {
        clock.advanceSeconds(1500);
        expect((await page('get', '/auth/me', b)).status).toBe(200);
      }
      clock.advanceSeconds(ABSOLUTE - Math.floor(ABSOLUTE / 1500) * 1500 + 1);
      expectProblem(await page('get', '/auth/me', b), 401, 'SESSION_EXPIRED');
    });

    it(`lastUsed is written at most once per ${TOUCH} s (throttled), and the list shows it`, async () => {
      const b = await signIn();
      const lastUsed = async () => {
        const res = await page('get', '/auth/sessions', b);
        return res.body.sessions.find((s: { id: string }) => s.id === b.sid).lastUsedAt as string;
      };
      const first = await lastUsed();
      clock.advanceSeconds(TOUCH / 2);
      expect(await lastUsed()).toBe(first);
      clock.advanceSeconds(TOUCH / 2 + 1);
      const touched = await lastUsed();
      expect(new Date(touched).getTime()).toBeGreaterThan(new Date(first).getTime());
      // Counting writes: many requests within the interval cost no write at all.
      const client = new Redis(t.redis!.url);
      try {
        await client.config('RESETSTAT');
        for (let i = 0; i < 20; i++) expect((await page('get', '/auth/me', b)).status).toBe(200);
        const stats = await client.info('commandstats');
        expect(stats).not.toMatch(/cmdstat_(evalsha|eval|hset|pexpire):/);
      } finally {
        client.disconnect();
      }
    });
  });

  describe('sessions and revocation', () => {
    it('browser sessions appear in the same list as API sessions, with kind, device, times and current', async () => {
      const b = await signIn();
      const api = await login(t.http, b.email);
      const fromCookie = await page('get', '/auth/sessions', b);
      expect(fromCookie.status).toBe(200);
      expect(fromCookie.headers['cache-control']).toBe('no-store');
      const byId = Object.fromEntries(fromCookie.body.sessions.map((s: { id: string }) => [s.id, s]));
      expect(byId[b.sid]).toEqual({
        id: b.sid,
        kind: 'browser',
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        deviceLabel: 'Chrome on macOS',
        current: true,
      });
      expect(byId[api.sid]).toMatchObject({ kind: 'api', current: false });
      const fromBearer = await request(t.http).get('/auth/sessions').set('Authorization', bearer(api.accessToken));
      const seen = Object.fromEntries(fromBearer.body.sessions.map((s: { id: string; current: boolean }) => [s.id, s.current]));
      expect(seen).toMatchObject({ [b.sid]: false, [api.sid]: true });
    });

    it('logout with the cookie and token: 204, the cookie is cleared, the session is gone', async () => {
      const b = await signIn();
      const res = await page('post', '/auth/logout', b);
      expect(res.status).toBe(204);
      const cleared = sessionCookieOf(res)!;
      expect(cleared.value).toBe('');
      expect(cleared.attributes.path).toBe('/');
      expect(new Date(cleared.attributes.expires).getTime()).toBeLessThan(Date.now());
      expectProblem(await page('get', '/auth/me', b), 401, 'SESSION_REVOKED');
      expectProblem(await state(b), 401, 'SESSION_REVOKED');
    });

    it('an API client revokes a browser session by id; logout-all from the browser ends every session', async () => {
      const b = await signIn();
      const api = await login(t.http, b.email);
      expect((await request(t.http).delete(`/auth/sessions/${b.sid}`).set('Authorization', bearer(api.accessToken))).status).toBe(204);
      expectProblem(await page('get', '/auth/me', b), 401, 'SESSION_REVOKED');

      const c = await signIn(b.email);
      const all = await page('post', '/auth/logout-all', c);
      expect(all.status).toBe(204);
      expect(sessionCookieOf(all)?.value).toBe('');
      expectProblem(await page('get', '/auth/me', c), 401, 'SESSION_REVOKED');
      expectProblem(await request(t.http).get('/auth/me').set('Authorization', bearer(api.accessToken)), 401, 'SESSION_REVOKED');
    });

    it('API logout-all ends browser sessions too', async () => {
      const b = await signIn();
      const api = await login(t.http, b.email);
      expect((await request(t.http).post('/auth/logout-all').set('Authorization', bearer(api.accessToken))).status).toBe(204);
      const res = await page('get', '/auth/me', b);
      expect(res.status).toBe(401);
    });
  });

  describe('headers and the sign-in page', () => {
    it('serves /signin (HTML, script and style as separate files) under the CSP, with security headers', async () => {
      const html = await request(t.http).get('/signin');
      expect(html.status).toBe(200);
      expect(html.headers['content-type']).toMatch(/^text\/html/);
      expect(html.text).toContain('<script type="module" src="/signin/app.js"></script>');
      expect(html.text).not.toMatch(/<script>|<style>| on\w+=/);
      const csp = String(html.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("script-src 'unsafe-inline'");
      expect(html.headers['x-content-type-options']).toBe('nosniff');
      expect(html.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(html.headers['referrer-policy']).toBe('no-referrer');
      expect(html.headers['x-powered-by']).toBeUndefined();
      expect(html.headers['cache-control']).toBe('no-store');
      const js = await request(t.http).get('/signin/app.js');
      expect(js.headers['content-type']).toMatch(/^text\/javascript/);
      expect(js.text).toContain("from '/signin/auth-client.js'");
      const client = await request(t.http).get('/signin/auth-client.js');
      expect(client.headers['content-type']).toMatch(/^text\/javascript/);
      expect(client.text).toContain('export function createAuthClient(');
      expect((await request(t.http).get('/signin/app.css')).headers['content-type']).toMatch(/^text\/css/);
    });

    it('no CORS: a credentialed cross-origin request never gets Access-Control-Allow-Origin', async () => {
      const b = await signIn();
      const res = await page('get', '/auth/browser/session', b, { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      const preflight = await request(t.http)
        .options('/auth/logout')
        .set({ Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'x-csrf-token' });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('GET /auth/browser/session with a bearer token: 401 SESSION_COOKIE_INVALID (it is the cookie profile\u2019s)', async () => {
      const api = await login(t.http, (await register(t.http, uniqueEmail('bearer-state'))).email);
      expectProblem(await request(t.http).get('/auth/browser/session').set('Authorization', bearer(api.accessToken)), 401, 'SESSION_COOKIE_INVALID');
    });
  });
});
