import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { FakeClock } from '../support/fake-clock';
import { bearer, createTestApp, PASSWORD, register, uniqueEmail, type TestApp } from '../support/test-app';

/**
 * The browser client (client/, served at /signin/auth-client.js) in Debian Chromium, token mode,
 * as an SPA on the app's origin would use it: two tabs of one browser, the access token in each
 * tab's memory, the refresh token in the HttpOnly cookie. After the access token expires, 20
 * parallel requests across both tabs cost exactly one POST /auth/refresh (counted on the server),
 * all succeed, and the rotating refresh token is never presented twice (no reuse detected, the
 * session lives). A new tab takes the token from an open one; logout everywhere in one tab signs
 * the other out, which then makes no refresh attempt. Last, the sign-in page itself (session
 * mode): signing out in one tab shows the other tab signed out, without a reload.
 *
 * The SPA is driven through page.evaluate on /signin (auth adds no route for tests): the module
 * is imported there, as an SPA's own script would. CHROMIUM_PATH overrides /usr/bin/chromium.
 */
jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What the tab's window holds: the client and what its onSignedOut saw. */
interface Tab {
  spa: {
    login(email: string, password: string): Promise<{ sub: string; sid: string }>;
    restore(): Promise<{ sub: string; sid: string } | null>;
    fetch(input: string, init?: { method?: string }): Promise<{ status: number; json(): Promise<{ sub?: string; code?: string }> }>;
    logoutEverywhere(): Promise<void>;
    accessToken(): string | null;
    state(): string;
  };
  signedOut: string[];
}

describe('browser client in Chromium: two tabs, one refresh', () => {
  const clock = new FakeClock();
  const audit: Array<{ event: string }> = [];
  const seen = { refresh: 0, me: 0 };
  let t: TestApp;
  let appOrigin: string;
  let userDir: string;
  let context: BrowserContext;
  let tab1: Page;
  let tab2: Page;
  let email: string;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp({
      clock,
      // The token expires by the fake clock; logout-all then still counts the login as recent.
      env: { LOG_LEVEL: 'info', AUTH_REAUTH_MAX_AGE: '86400' },
      logDestination: {
        write: (s: string) => {
          for (const line of s.split('\n').filter(Boolean)) {
            const parsed = JSON.parse(line) as { audit?: boolean; event: string };
            if (parsed.audit) audit.push(parsed);
          }
        },
      },
    });
    // Counted where the server receives them: whatever the browser or the client believe.
    t.http.prependListener('request', (req: IncomingMessage) => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'POST' && path === '/auth/refresh') seen.refresh++;
      if (req.method === 'GET' && path === '/auth/me') seen.me++;
    });
    appOrigin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    ({ email, id: userId } = await register(t.http, uniqueEmail('spa')));
    userDir = mkdtempSync(join(tmpdir(), 'chromium-spa-'));
    context = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
    tab1 = context.pages()[0] ?? (await context.newPage());
    tab2 = await context.newPage();
    await Promise.all([openSpa(tab1), openSpa(tab2)]);
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    await t?.close();
  });

  /** An "SPA" in the tab: the client module imported on the app's origin, a token-mode client. */
  async function openSpa(page: Page): Promise<void> {
    await page.goto(`${appOrigin}/signin`);
    // A string, not a function: ts-jest would compile a function's import() into require().
    await page.evaluate(`import('/signin/auth-client.js').then((m) => {
      window.spa = m.createAuthClient();
      window.signedOut = [];
      window.spa.onSignedOut((reason) => window.signedOut.push(reason));
    })`);
  }
  /** Polls the tab (the page's CSP forbids the eval that string predicates of waitForFunction need). */
  async function until(page: Page, probe: () => boolean): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await page.evaluate(probe)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${probe.toString()}`);
  }
  const meTen = (page: Page) =>
    page.evaluate(async () => {
      const responses = await Promise.all(Array.from({ length: 10 }, () => (globalThis as unknown as Tab).spa.fetch('/auth/me')));
      return Promise.all(responses.map(async (r) => ({ status: r.status, sub: (await r.json()).sub })));
    });
  const events = (name: string) => audit.filter((e) => e.event === name).length;

  it('signs in in tab 1; the token is in memory only, and tab 2 has it too (broadcast)', async () => {
    const me = await tab1.evaluate(([e, p]) => (globalThis as unknown as Tab).spa.login(e, p), [email, PASSWORD]);
    expect(me.sub).toBe(userId);
    const token = await tab1.evaluate(() => (globalThis as unknown as Tab).spa.accessToken());
    expect(token).toMatch(/^ey/);
    await until(tab2, () => (globalThis as unknown as Tab).spa.state() === 'signedIn');
    expect(await tab2.evaluate(() => (globalThis as unknown as Tab).spa.accessToken())).toBe(token);
    for (const page of [tab1, tab2]) {
      const stored = await page.evaluate(() => {
        const g = globalThis as unknown as { localStorage: { length: number }; sessionStorage: { length: number }; document: { cookie: string } };
        return { local: g.localStorage.length, session: g.sessionStorage.length, cookie: g.document.cookie };
      });
      expect(stored).toEqual({ local: 0, session: 0, cookie: '' });
    }
    // The refresh token is in the HttpOnly cookie, scoped to /auth.
    expect((await context.cookies(`${appOrigin}/auth/refresh`)).find((c) => c.name === '__Secure-refresh_token')).toMatchObject({ httpOnly: true, path: '/auth' });
    expect(seen.refresh).toBe(0);
  });

  it('after expiry, 20 parallel requests across both tabs: one POST /auth/refresh, all succeed, no refresh-token reuse', async () => {
    clock.advanceSeconds(t.config.accessTokenTtl + 60);
    const stale = await tab1.evaluate(() => (globalThis as unknown as Tab).spa.accessToken());
    const before = { ...seen };
    // A slow refresh (held back in the browser, before the cookie is attached): both tabs meet the
    // expiry while it is under way, the window in which a second refresh would reuse the cookie.
    await context.route('**/auth/refresh', async (route) => {
      await new Promise((r) => setTimeout(r, 300));
      await route.continue();
    });
    const [one, two] = await Promise.all([meTen(tab1), meTen(tab2)]).finally(() => context.unroute('**/auth/refresh'));
    expect([...one, ...two]).toEqual(Array(20).fill({ status: 200, sub: userId }));
    expect(seen.refresh - before.refresh).toBe(1);
    // Every request went out twice: refused as expired, then replayed with the new token.
    expect(seen.me - before.me).toBe(40);
    expect(events('refresh')).toBe(1);
    expect(events('refresh.reuse_detected')).toBe(0);

    const fresh = await tab1.evaluate(() => (globalThis as unknown as Tab).spa.accessToken());
    expect(fresh).not.toBe(stale);
    expect(await tab2.evaluate(() => (globalThis as unknown as Tab).spa.accessToken())).toBe(fresh);
    // The session lives: the new token works and lists it.
    const sessions = await request(t.http).get('/auth/sessions').set('Authorization', bearer(fresh!));
    expect(sessions.status).toBe(200);
    expect(sessions.body.sessions).toHaveLength(1);
  });

  it('a new tab with no token gets one from the open tabs, without a refresh', async () => {
    const tab3 = await context.newPage();
    try {
      await openSpa(tab3);
      const before = seen.refresh;
      expect(await tab3.evaluate(() => (globalThis as unknown as Tab).spa.restore())).toMatchObject({ sub: userId });
      expect(await tab3.evaluate(() => (globalThis as unknown as Tab).spa.accessToken())).toBe(await tab1.evaluate(() => (globalThis as unknown as Tab).spa.accessToken()));
      expect(seen.refresh).toBe(before);
    } finally {
      await tab3.close();
    }
  });

  it('logout everywhere in tab 1: tab 2 is signed out (onSignedOut) and its next request fails without a refresh attempt', async () => {
    const before = seen.refresh;
    await tab1.evaluate(() => (globalThis as unknown as Tab).spa.logoutEverywhere());
    expect(events('logout_all')).toBe(1);
    await until(tab2, () => (globalThis as unknown as Tab).signedOut.length > 0);
    expect(await tab2.evaluate(() => (globalThis as unknown as Tab).signedOut)).toEqual(['LOGOUT_ALL']);
    expect(await tab2.evaluate(() => (globalThis as unknown as Tab).spa.accessToken())).toBeNull();
    const next = await tab2.evaluate(async () => {
      const r = await (globalThis as unknown as Tab).spa.fetch('/auth/me');
      return { status: r.status, code: (await r.json()).code };
    });
    expect(next).toEqual({ status: 401, code: 'ACCESS_TOKEN_MISSING' });
    expect(seen.refresh).toBe(before);
    expect(events('refresh.reuse_detected')).toBe(0);
  });

  it('the sign-in page (session mode): signing out in one tab shows the other tab signed out, without a reload', async () => {
    await tab1.goto(`${appOrigin}/signin`);
    await tab1.waitForSelector('#signin-form', { state: 'visible' });
    await tab1.fill('#email', email);
    await tab1.fill('#password', PASSWORD);
    await tab1.click('#signin');
    await tab1.waitForSelector('#signed-in', { state: 'visible' });
    await tab2.goto(`${appOrigin}/signin`);
    await tab2.waitForSelector('#signed-in', { state: 'visible' });

    // A background tab runs no animation frames, which Playwright's click waits for.
    await tab1.bringToFront();
    await tab1.click('#signout');
    await tab1.waitForSelector('#signed-out', { state: 'visible' });
    await tab2.waitForSelector('#signed-out', { state: 'visible' });
    expect(await tab2.textContent('#status')).toBe('Signed out');
  });
});
