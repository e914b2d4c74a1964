import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import {
  bearer,
  CHROME_ON_MACOS,
  createTestApp,
  decodeJwt,
  expectProblem,
  parseSetCookie,
  PASSWORD,
  REFRESH_COOKIE,
  refreshCookieOf,
  register,
  setCookies,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/**
 * Issue 15, keys: a signing-key rotation done the documented way (docs/operations.md, `npm run
 * keys`) keeps every session, cookie and outstanding access token, and an outside verifier
 * (jose's createRemoteJWKSet on /.well-known/jwks.json) accepts tokens of both keys.
 *
 * Instances share Redis, PostgreSQL, the MAC secret and the key files, as replicas do: A runs on
 * the original keys throughout (an instance not yet restarted), B boots after the new key is
 * staged, C after it is promoted.
 */
const ROOT = join(__dirname, '..', '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
const SESSION_COOKIE = '__Host-session';

describe('signing-key rotation (npm run keys, three instances on one Redis)', () => {
  let dir: string;
  let keyEnv: Record<string, string>;
  let a: TestApp;
  let b: TestApp | undefined;
  let c: TestApp | undefined;

  /** `npm run keys -- <args>` in the servers' environment (only it: never the developer's JWT_* variables). */
  function keys(...args: string[]): string {
    return execFileSync(process.execPath, [TS_NODE, '--transpile-only', 'scripts/keys.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...a.env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  const originOf = (t: TestApp): string => `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
  const jwksUrl = (t: TestApp): URL => new URL('/.well-known/jwks.json', originOf(t));
  const kidOf = (token: string): string => decodeJwt(token).header.kid as string;
  const me = (t: TestApp, token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));
  /** A same-origin page request carrying the session cookie. */
  const page = (t: TestApp, method: 'get' | 'post', path: string, cookie: string) =>
    request(t.http)[method](path)
      .set({ Cookie: `${SESSION_COOKIE}=${cookie}`, Origin: originOf(t), 'Sec-Fetch-Site': 'same-origin', 'User-Agent': CHROME_ON_MACOS });
  const refreshWithCookie = (t: TestApp, cookie: string) =>
    request(t.http)
      .post('/auth/refresh')
      .set({ Cookie: `${REFRESH_COOKIE}=${cookie}`, Origin: originOf(t), 'Sec-Fetch-Site': 'same-origin', 'User-Agent': CHROME_ON_MACOS });
  const verifyWith = (jwks: ReturnType<typeof createRemoteJWKSet>, token: string) =>
    jwtVerify(token, jwks, { issuer: a.config.jwt.issuer, audience: a.config.jwt.audience, typ: 'at+jwt', algorithms: ['ES256'] });

  // What a user holds from before the rotation.
  let email: string;
  let oldAccessToken: string;
  let oldRefreshCookie: string;
  let oldSessionCookie: string;
  let oldCsrfToken: string;
  let oldKid: string;
  let stagedKid: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rotation-keys-'));
    // Device binding on (the suites' default is off): the reported failure was DEVICE_MISMATCH.
    keyEnv = { JWT_PRIVATE_KEY_PATH: join(dir, 'private.pem'), JWT_PUBLIC_KEY_PATH: join(dir, 'public.pem'), AUTH_DEVICE_BINDING: 'ua' };
    a = await createTestApp({ env: keyEnv });
  });
  afterAll(async () => {
    await c?.close();
    await b?.close();
    await a?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('before: an API login (refresh cookie) and a browser login on the original key', async () => {
    expect(keys('generate')).toMatch(/signing key pair present[\s\S]*MAC secret present/); // A created both on first start
    email = (await register(a.http, uniqueEmail('rotation'))).email;
    const api = await request(a.http).post('/auth/login').set('User-Agent', CHROME_ON_MACOS).send({ email, password: PASSWORD });
    expect(api.status).toBe(200);
    oldAccessToken = api.body.accessToken;
    oldRefreshCookie = refreshCookieOf(api)!.value;
    oldKid = kidOf(oldAccessToken);

    const browser = await request(a.http)
      .post('/auth/browser/login')
      .set({ Origin: originOf(a), 'Sec-Fetch-Site': 'same-origin', 'User-Agent': CHROME_ON_MACOS })
      .send({ email, password: PASSWORD });
    expect(browser.status).toBe(200);
    oldSessionCookie = setCookies(browser).map(parseSetCookie).find((k) => k.name === SESSION_COOKIE)!.value;
    oldCsrfToken = browser.body.csrfToken;

    const served = (await request(a.http).get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(served).toEqual([oldKid]);
  });

  it('step 1, `keys rotate`: the staged key is published in the JWKS before anything signs with it', async () => {
    stagedKid = /staged kid (\S+):/.exec(keys('rotate'))![1];
    expect(stagedKid).not.toBe(oldKid);
    b = await createTestApp({ env: { ...a.env } });

    const jwks = await request(b.http).get('/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([oldKid, stagedKid]);
    expect(jwks.headers['cache-control']).toBe('public, max-age=300');
    // B still signs with the current key.
    const refreshed = await refreshWithCookie(b, oldRefreshCookie);
    expect(refreshed.status).toBe(200);
    expect(kidOf(refreshed.body.accessToken)).toBe(oldKid);
    oldRefreshCookie = refreshCookieOf(refreshed)!.value;

    // Promoting at once is refused: verifiers may hold a JWKS without the staged key for 300 s.
    expect(() => keys('rotate', '--promote')).toThrow(/staged \d+ s ago/);
  });

  it('step 2, `keys rotate --promote` after the JWKS cache period: sessions, cookies and old tokens survive, new tokens carry the new kid', async () => {
    // An outside verifier fetches B's JWKS during the staging, and caches it.
    const cachedFromStaging = createRemoteJWKSet(jwksUrl(b!));
    await expect(verifyWith(cachedFromStaging, oldAccessToken)).resolves.toBeDefined();
    // The 300 s have passed (the staged file's time is what the script checks).
    const staged = join(dir, 'next-public.pem');
    const agedBy = 301;
    utimesSync(staged, new Date(statSync(staged).mtimeMs - agedBy * 1000), new Date(statSync(staged).mtimeMs - agedBy * 1000));
    expect(keys('rotate', '--promote')).toContain(`kid ${stagedKid} signs now; kid ${oldKid} retired`);
    expect(existsSync(staged)).toBe(false);
    expect(keys('list')).toMatch(new RegExp(`signing\\s+ES256\\s+${stagedKid}[\\s\\S]*retired\\s+ES256\\s+${oldKid}`));

    // Rolling restart: C comes up on the promoted files while B still runs on the staged ones.
    c = await createTestApp({ env: { ...a.env } });
    const jwks = await request(c.http).get('/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual([stagedKid, oldKid]);

    // The outstanding access token of the old key: accepted until it expires.
    expect((await me(c, oldAccessToken)).status).toBe(200);

    // The old refresh cookie rotates: no DEVICE_MISMATCH, the session lives on, the new token has the new kid.
    const refreshed = await refreshWithCookie(c, oldRefreshCookie);
    expect(refreshed.status).toBe(200);
    const newAccessToken = refreshed.body.accessToken as string;
    expect(kidOf(newAccessToken)).toBe(stagedKid);
    expect(decodeJwt(newAccessToken).payload).toMatchObject({ client_id: a.config.jwt.clientId, sid: decodeJwt(oldAccessToken).payload.sid });
    expect(refreshCookieOf(refreshed)).toBeDefined();

    // The old browser cookie and its CSRF token: no SESSION_COOKIE_INVALID.
    const state = await page(c, 'get', '/auth/browser/session', oldSessionCookie);
    expect(state.status).toBe(200);
    expect(state.body.csrfToken).toBe(oldCsrfToken);

    // B (not yet restarted) accepts what C signs: the promoted key was its next key. A, which
    // skipped step 1, does not know it: the reason step 1 comes first.
    expect((await me(b!, newAccessToken)).status).toBe(200);
    expectProblem(await me(a, newAccessToken), 401, 'ACCESS_TOKEN_INVALID');
    await b!.close();
    b = undefined;

    // Outside verifiers: the JWKS cached during the staging (B is gone, nothing can be fetched)
    // accepts the new key's token; C's JWKS accepts both keys' tokens.
    const viaStaging = await verifyWith(cachedFromStaging, newAccessToken);
    expect(viaStaging.protectedHeader.kid).toBe(stagedKid);
    const fromC = createRemoteJWKSet(jwksUrl(c));
    expect((await verifyWith(fromC, oldAccessToken)).protectedHeader.kid).toBe(oldKid);
    expect((await verifyWith(fromC, newAccessToken)).payload).toMatchObject({ sub: decodeJwt(oldAccessToken).payload.sub, client_id: a.config.jwt.clientId });

    // An unsafe request with the pre-rotation CSRF token ends the browser session normally.
    const logout = await page(c, 'post', '/auth/logout', oldSessionCookie).set('X-CSRF-Token', oldCsrfToken);
    expect(logout.status).toBe(204);
    expectProblem(await page(c, 'get', '/auth/browser/session', oldSessionCookie), 401, 'SESSION_REVOKED');
  });

  it('control: an instance with another MAC secret refuses the same cookies (what carries them is the MAC secret, not the key)', async () => {
    const browser = await request(c!.http)
      .post('/auth/browser/login')
      .set({ Origin: originOf(c!), 'Sec-Fetch-Site': 'same-origin', 'User-Agent': CHROME_ON_MACOS })
      .send({ email, password: PASSWORD });
    const cookie = setCookies(browser).map(parseSetCookie).find((k) => k.name === SESSION_COOKIE)!.value;
    const other = await createTestApp({ env: { ...a.env, AUTH_MAC_SECRET_PATH: join(dir, 'another-mac-secret') } });
    try {
      expectProblem(await page(other, 'get', '/auth/browser/session', cookie), 401, 'SESSION_COOKIE_INVALID');
      expect((await page(c!, 'get', '/auth/browser/session', cookie)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
