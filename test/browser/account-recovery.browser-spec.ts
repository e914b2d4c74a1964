import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { startSmtp, type ReceivedMail, type SmtpHarness } from '../support/smtp-server';
import { createTestApp, PASSWORD, register, uniqueEmail, type TestApp } from '../support/test-app';

/**
 * The sign-in page's recovery views in Debian Chromium (playwright-core), with mail delivered
 * over SMTP to a real server on loopback: a sign-in refused for an unverified address offers a new
 * link; the mailed link verifies the address; "forgot password" mails a reset link whose page sets
 * a new password (the policy's refusal shown, the link still usable), which ends the session a
 * second browser held.
 *
 * CHROMIUM_PATH overrides /usr/bin/chromium. Waits use locators, not string predicates: the page's
 * CSP forbids eval, which string predicates need.
 */
jest.setTimeout(90_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const COOKIE = '__Host-session';
const NEW_PASSWORD = 'a brand new passphrase 314';

describe('recovery views of the sign-in page in Chromium', () => {
  let smtp: SmtpHarness;
  let t: TestApp;
  let appOrigin: string;
  let browser: Browser;
  /** The browser that signs in first and keeps its session until the reset. */
  let first: BrowserContext;
  /** The browser where the password is reset. */
  let second: BrowserContext;
  let email: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ env: { MAIL_URL: smtp.url, AUTH_REQUIRE_VERIFIED_EMAIL: 'true' } });
    appOrigin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    [first, second] = await Promise.all([browser.newContext(), browser.newContext()]);
    ({ email } = await register(t.http, uniqueEmail('page')));
  });

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await t?.close();
    await smtp?.stop();
  });

  const mailTo = (subject: string, after = 0): Promise<ReceivedMail> =>
    smtp.waitFor((m) => m.to.includes(email) && m.subject === subject && m.receivedAt > after);
  const signIn = async (page: Page, password: string): Promise<void> => {
    await page.goto(`${appOrigin}/signin`);
    await page.waitForSelector('#signin-form', { state: 'visible' });
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('#signin');
  };

  it('an unverified address: sign-in refused with EMAIL_NOT_VERIFIED, a new link on request, and the link verifies it', async () => {
    const registration = await mailTo('Verify your email address');
    const page = await first.newPage();
    await signIn(page, PASSWORD);
    await page.waitForSelector('#resend-box', { state: 'visible' });
    expect(await page.textContent('#error')).toContain('EMAIL_NOT_VERIFIED');

    await page.click('#resend-verification');
    await page.locator('#notice', { hasText: 'new link' }).waitFor();
    const resent = await mailTo('Verify your email address', registration.receivedAt);

    await page.goto(resent.link as string);
    await page.locator('#notice', { hasText: 'Your email address is verified.' }).waitFor();
    expect(await page.isVisible('#verify')).toBe(true);
    // The token left the address bar; it was used (once) by the page.
    expect(page.url()).toBe(`${appOrigin}/signin/verify`);
    const again = await request(t.http).post('/auth/email/verify').send({ token: new URL(resent.link as string).searchParams.get('token') });
    expect(again.body.code).toBe('RECOVERY_TOKEN_INVALID');

    await signIn(page, PASSWORD);
    await page.waitForSelector('#signed-in', { state: 'visible' });
  });

  it('forgot -> mailed link -> new password: the policy is shown, the other browser\u2019s session ends, the new password signs in', async () => {
    const cookieBefore = (await first.cookies(appOrigin)).find((c) => c.name === COOKIE);
    expect(cookieBefore).toBeDefined();

    const page = await second.newPage();
    await page.goto(`${appOrigin}/signin`);
    await page.waitForSelector('#signed-out', { state: 'visible' });
    await page.click('#forgot-link');
    await page.waitForSelector('#forgot', { state: 'visible' });
    await page.fill('#forgot-email', email);
    await page.click('#forgot-send');
    await page.locator('#notice', { hasText: 'reset link is on its way' }).waitFor();
    const mail = await mailTo('Reset your password');

    await page.goto(mail.link as string);
    await page.waitForSelector('#reset', { state: 'visible' });
    expect(page.url()).toBe(`${appOrigin}/signin/reset`);
    await page.fill('#new-password', 'iloveyou');
    await page.click('#reset-submit');
    await page.locator('#error', { hasText: 'PASSWORD_REJECTED' }).waitFor();
    await page.fill('#new-password', NEW_PASSWORD);
    await page.click('#reset-submit');
    await page.locator('#notice', { hasText: 'password was changed' }).waitFor();
    await page.waitForSelector('#signed-out', { state: 'visible' });
    expect(page.url()).toBe(`${appOrigin}/signin`);

    // The first browser's session is over.
    const me = await request(t.http).get('/auth/me').set('Cookie', `${COOKIE}=${cookieBefore!.value}`);
    expect(me.status).toBe(401);
    const old = await first.newPage();
    await old.goto(`${appOrigin}/signin`);
    await old.waitForSelector('#signed-out', { state: 'visible' });

    await signIn(page, PASSWORD);
    await page.locator('#error', { hasText: 'INVALID_CREDENTIALS' }).waitFor();
    await signIn(page, NEW_PASSWORD);
    await page.waitForSelector('#signed-in', { state: 'visible' });
  });
});
