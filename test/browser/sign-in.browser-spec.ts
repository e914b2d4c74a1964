import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { createTestApp, expectProblem, login, PASSWORD, register, uniqueEmail, type TestApp } from '../support/test-app';

/**
 * The browser profile in a real browser: Debian Chromium driven by playwright-core against the
 * running app on loopback. Sign in through /signin, the session cookie is invisible to scripts,
 * a cross-origin (same-site: another port of 127.0.0.1) form post and no-cors fetch are refused,
 * sessions are listed and revoked from the page, and signing out ends the session.
 *
 * CHROMIUM_PATH overrides /usr/bin/chromium (`.ci/run` installs Debian's chromium when missing).
 */
jest.setTimeout(90_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const COOKIE = '__Host-session';

/** A second loopback origin (another port): an attacker page that posts to the app on load. */
function startAttacker(appOrigin: string): Promise<{ server: HttpServer; origin: string }> {
  const pages: Record<string, string> = {
    '/form': `<!doctype html><form method="POST" action="${appOrigin}/auth/logout-all"></form>
<script>document.forms[0].submit()</script>`,
    '/fetch': `<!doctype html><script>
fetch(${JSON.stringify(appOrigin + '/auth/logout')}, { method: 'POST', mode: 'no-cors', credentials: 'include' })
  .then(() => { document.title = 'sent'; }, () => { document.title = 'failed'; });
</script>`,
  };
  const server = createServer((req, res) => {
    const body = pages[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(body ?? 'not found');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` }));
  });
}

describe('browser profile in Chromium', () => {
  let t: TestApp;
  let appOrigin: string;
  let attacker: { server: HttpServer; origin: string };
  let userDir: string;
  let context: BrowserContext;
  let page: Page;
  let email: string;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp();
    appOrigin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    attacker = await startAttacker(appOrigin);
    ({ email, id: userId } = await register(t.http, uniqueEmail('chromium')));
    userDir = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(userDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    await new Promise((r) => (attacker ? attacker.server.close(r) : r(undefined)));
    await t?.close();
  });

  const sessionCookie = async () => (await context.cookies(appOrigin)).find((c) => c.name === COOKIE);
  const appMe = (cookie: string) => request(t.http).get('/auth/me').set('Cookie', `${COOKIE}=${cookie}`);

  it('signs in through the page; the cookie is HttpOnly and invisible to document.cookie', async () => {
    await page.goto(`${appOrigin}/signin`);
    await page.waitForSelector('#signin-form', { state: 'visible' });
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.click('#signin');
    await page.waitForSelector('#signed-in', { state: 'visible' });
    expect(await page.textContent('#whoami')).toBe(userId);

    const cookie = await sessionCookie();
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/', domain: '127.0.0.1' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain(COOKIE);
    expect(await page.evaluate<string>('document.cookie')).not.toContain(cookie!.value.split('.')[2]);
    // The page shows this browser's session as current.
    await page.waitForSelector('#sessions li');
    expect(await page.textContent('#sessions')).toContain('(this browser)');
    expect((await appMe(cookie!.value)).status).toBe(200);
  });

  it('a cross-origin auto-submitting form post (same site, another port) is refused with 403; the session lives', async () => {
    const before = (await sessionCookie())!;
    const attackPage = await context.newPage();
    try {
      for (const path of ['/form']) {
        const refused = attackPage.waitForResponse((r) => r.url().startsWith(`${appOrigin}/auth/logout`) && r.request().method() === 'POST');
        await attackPage.goto(`${attacker.origin}${path}`);
        const res = await refused;
        // The browser did send the cookie (same-site, Lax): the server's CSRF check refused it.
        expect((await res.request().allHeaders())['cookie']).toContain(COOKIE);
        expect(res.status()).toBe(403);
        expect(((await res.json()) as { code: string }).code).toBe('CSRF_TOKEN_INVALID');
      }
      await attackPage.goto(`${attacker.origin}/fetch`);
      await attackPage.waitForFunction("document.title === 'sent' || document.title === 'failed'");
    } finally {
      await attackPage.close();
    }
    expect((await appMe(before.value)).status).toBe(200);
    await page.reload();
    await page.waitForSelector('#signed-in', { state: 'visible' });
    expect((await sessionCookie())?.value).toBe(before.value);
  });

  it('lists sessions and revokes another one from the page', async () => {
    const other = await login(t.http, email, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' });
    await page.reload();
    await page.waitForSelector(`#sessions li[data-sid="${other.sid}"]`);
    expect(await page.locator('#sessions li').count()).toBe(2);
    await page.click(`#sessions li[data-sid="${other.sid}"] button.revoke`);
    await page.waitForSelector(`#sessions li[data-sid="${other.sid}"]`, { state: 'detached' });
    expect(await page.locator('#sessions li').count()).toBe(1);
    expect(await page.textContent('#error')).toBe('');
    expectProblem(await request(t.http).get('/auth/me').set('Authorization', `Bearer ${other.accessToken}`), 401, 'SESSION_REVOKED');
  });

  it('sign out ends the session: the cookie is gone and its old value is refused', async () => {
    const before = (await sessionCookie())!;
    await page.click('#signout');
    await page.waitForSelector('#signed-out', { state: 'visible' });
    expect(await sessionCookie()).toBeUndefined();
    expectProblem(await appMe(before.value), 401, 'SESSION_REVOKED');
    await page.reload();
    await page.waitForSelector('#signed-out', { state: 'visible' });
  });
});
