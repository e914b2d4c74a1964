import request from 'supertest';
import type { Server } from 'node:http';
import { FakeClock } from '../support/fake-clock';
import { mailSettled } from '../support/mail-outbox';
import { startSmtp, type ReceivedMail, type SmtpHarness } from '../support/smtp-server';
import { bearer, createTestApp, expectProblem, login, PASSWORD, refreshViaBody, register, uniqueEmail, type TestApp } from '../support/test-app';

/**
 * Email verification and password reset end to end (issue 18): the app delivers over SMTP to a
 * real SMTP server on loopback, and the tests follow the links it mailed.
 */
const NEW_PASSWORD = 'a completely different passphrase 7';

interface AuditLine {
  audit?: boolean;
  event?: string;
  userId?: string;
  reason?: string;
  [k: string]: unknown;
}

describe('account recovery and email verification over SMTP', () => {
  const clock = new FakeClock();
  const raw: string[] = [];
  let smtp: SmtpHarness;
  let t: TestApp;
  let origin: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await createTestApp({
      clock,
      env: { MAIL_URL: smtp.url, MAIL_FROM: 'Accounts <accounts@example.com>', LOG_LEVEL: 'info', TRUST_PROXY: 'loopback' },
      logDestination: { write: (s: string) => void raw.push(s) },
    });
    origin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
  });

  const audit = (): AuditLine[] =>
    raw
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as AuditLine)
      .filter((l) => l.audit === true);
  const outboxIdle = (): Promise<void> => mailSettled(t.app);
  const tokenOf = (mail: ReceivedMail): string => new URL(mail.link as string).searchParams.get('token') as string;
  const mailTo = (email: string, subject: string, after = 0): Promise<ReceivedMail> =>
    smtp.waitFor((m) => m.to.includes(email) && m.subject === subject && m.receivedAt >= after);
  const forgot = (http: Server, email: string, ip = '198.51.100.1') =>
    request(http).post('/auth/password/forgot').set('X-Forwarded-For', ip).send({ email });
  const reset = (token: string, newPassword = NEW_PASSWORD) => request(t.http).post('/auth/password/reset').send({ token, newPassword });
  const verify = (token: string) => request(t.http).post('/auth/email/verify').send({ token });

  describe('email verification', () => {
    it('registration mails a verification link to the page; following it verifies the address, once', async () => {
      const { email, id } = await register(t.http, uniqueEmail('verify'));
      const mail = await mailTo(email, 'Verify your email address');
      expect(mail.from).toBe('accounts@example.com');
      expect(mail.link).toMatch(new RegExp(`^${origin}/signin/verify\\?token=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$`));
      expect(mail.html).toContain(`href="${mail.link}"`);

      expect((await verify(tokenOf(mail))).status).toBe(204);
      expect(audit().filter((l) => l.event === 'email.verified' && l.userId === id)).toHaveLength(1);
      // Single use.
      expectProblem(await verify(tokenOf(mail)), 400, 'RECOVERY_TOKEN_INVALID');
    });

    it('resend: the same 202 for an unverified, a verified and an unknown address; a new link only for the unverified one, and it replaces the first', async () => {
      const { email } = await register(t.http, uniqueEmail('resend'));
      const first = await mailTo(email, 'Verify your email address');
      const verified = await register(t.http, uniqueEmail('verified'));
      expect((await verify(tokenOf(await mailTo(verified.email, 'Verify your email address')))).status).toBe(204);
      const unknown = uniqueEmail('nobody');

      const answers = await Promise.all(
        [email, verified.email, unknown].map((e) => request(t.http).post('/auth/email/verify/resend').send({ email: e })),
      );
      for (const res of answers) expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { status: 'accepted' } });
      await outboxIdle();

      const second = await mailTo(email, 'Verify your email address', first.receivedAt + 1);
      expect(smtp.to(email)).toHaveLength(2);
      expect(smtp.to(verified.email)).toHaveLength(1);
      expect(smtp.to(unknown)).toHaveLength(0);
      expectProblem(await verify(tokenOf(first)), 400, 'RECOVERY_TOKEN_INVALID');
      expect((await verify(tokenOf(second))).status).toBe(204);
    });

    it('a verification link expires (24 h by default, by the injected clock)', async () => {
      const { email } = await register(t.http, uniqueEmail('late'));
      const mail = await mailTo(email, 'Verify your email address');
      clock.advanceSeconds(86_400);
      expectProblem(await verify(tokenOf(mail)), 400, 'RECOVERY_TOKEN_INVALID');
    });
  });

  describe('password reset', () => {
    it('forgot -> mail -> reset: every session ends (API and browser), the new password works, the old does not, the link works once', async () => {
      const { email, id } = await register(t.http, uniqueEmail('reset'));
      const api = await login(t.http, email);
      const browserLogin = await request(t.http).post('/auth/browser/login').set('Origin', origin).send({ email, password: PASSWORD });
      expect(browserLogin.status).toBe(200);
      const cookie = (browserLogin.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
      expect((await request(t.http).get('/auth/me').set('Cookie', cookie)).status).toBe(200);

      const res = await forgot(t.http, email);
      expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { status: 'accepted' } });
      const mail = await mailTo(email, 'Reset your password');
      expect(mail.link).toMatch(new RegExp(`^${origin}/signin/reset\\?token=`));
      expect(mail.text).toContain('30 minutes');

      // The policy applies, and a refused password leaves the link usable.
      expectProblem(await reset(tokenOf(mail), 'iloveyou'), 400, 'PASSWORD_REJECTED');
      expect((await reset(tokenOf(mail))).status).toBe(204);

      expectProblem(await request(t.http).get('/auth/me').set('Authorization', bearer(api.accessToken)), 401, 'SESSION_REVOKED');
      expect((await refreshViaBody(t.http, api.refreshToken)).status).toBe(401);
      expect((await request(t.http).get('/auth/me').set('Cookie', cookie)).status).toBe(401);
      expectProblem(await request(t.http).post('/auth/login').send({ email, password: PASSWORD }), 401, 'INVALID_CREDENTIALS');
      const fresh = await login(t.http, email, { password: NEW_PASSWORD });
      expect(fresh.userId).toBe(id);
      expect((await request(t.http).get('/auth/me').set('Authorization', bearer(fresh.accessToken))).status).toBe(200);
      // Single use: the new session is untouched by a replay.
      expectProblem(await reset(tokenOf(mail), 'yet another passphrase 99'), 400, 'RECOVERY_TOKEN_INVALID');
      expect((await request(t.http).get('/auth/me').set('Authorization', bearer(fresh.accessToken))).status).toBe(200);

      const events = audit().filter((l) => l.userId === id).map((l) => l.event);
      expect(events).toEqual(expect.arrayContaining(['password.reset_requested', 'password.reset']));
      // Following the link proved the address as well.
      expect(events).toContain('email.verified');
    });

    it('an unknown address gets the same answer and no mail', async () => {
      const known = await register(t.http, uniqueEmail('known'));
      const unknown = uniqueEmail('unknown');
      const before = audit().length;
      const [a, b] = [await forgot(t.http, known.email), await forgot(t.http, unknown)];
      expect({ status: b.status, body: b.body, type: b.headers['content-type'] }).toEqual({
        status: a.status,
        body: a.body,
        type: a.headers['content-type'],
      });
      await outboxIdle();
      await mailTo(known.email, 'Reset your password');
      expect(smtp.to(unknown)).toHaveLength(0);
      const requested = audit()
        .slice(before)
        .filter((l) => l.event === 'password.reset_requested');
      expect(requested).toEqual([expect.objectContaining({ userId: known.id }), expect.objectContaining({ reason: 'no such account' })]);
      expect(requested[1]).not.toHaveProperty('userId');
    });

    it('a newer link kills the older one; a password change kills a pending link', async () => {
      const { email } = await register(t.http, uniqueEmail('newer'));
      await forgot(t.http, email);
      const first = await mailTo(email, 'Reset your password');
      await forgot(t.http, email);
      const second = await mailTo(email, 'Reset your password', first.receivedAt + 1);
      expectProblem(await reset(tokenOf(first)), 400, 'RECOVERY_TOKEN_INVALID');

      // Changing the password (signed in, recently) makes the pending link worthless.
      const session = await login(t.http, email);
      const change = await request(t.http)
        .post('/auth/password')
        .set('Authorization', bearer(session.accessToken))
        .send({ currentPassword: PASSWORD, newPassword: 'changed while a link was out 5' });
      expect(change.status).toBe(204);
      expectProblem(await reset(tokenOf(second)), 400, 'RECOVERY_TOKEN_INVALID');
    });

    it('a reset link expires after 30 minutes (by the injected clock)', async () => {
      const { email } = await register(t.http, uniqueEmail('expiry'));
      await forgot(t.http, email);
      const mail = await mailTo(email, 'Reset your password');
      clock.advanceSeconds(29 * 60);
      // Still valid one minute before the end: a refused password proves the token was accepted.
      expectProblem(await reset(tokenOf(mail), 'iloveyou'), 400, 'PASSWORD_REJECTED');
      clock.advanceSeconds(60);
      expectProblem(await reset(tokenOf(mail)), 400, 'RECOVERY_TOKEN_INVALID');
      expectProblem(await request(t.http).post('/auth/login').send({ email, password: NEW_PASSWORD }), 401, 'INVALID_CREDENTIALS');
    });

    it("a reset clears the account's lockout", async () => {
      const { email } = await register(t.http, uniqueEmail('locked'));
      const from = '203.0.113.9';
      const attempt = (password: string) =>
        request(t.http).post('/auth/login').set('X-Forwarded-For', from).send({ email, password, refreshTokenDelivery: 'body' });
      for (let i = 0; i < 9; i++) expect((await attempt('not the password')).status).toBe(401);
      // Locked (for 32 s from this address): even the right password is refused.
      expectProblem(await attempt(PASSWORD), 401, 'INVALID_CREDENTIALS');
      await forgot(t.http, email, from);
      const mail = await mailTo(email, 'Reset your password');
      expect((await request(t.http).post('/auth/password/reset').set('X-Forwarded-For', from).send({ token: tokenOf(mail), newPassword: NEW_PASSWORD })).status).toBe(204);
      expect((await attempt(NEW_PASSWORD)).status).toBe(200);
    });
  });

  describe('abuse and bad input', () => {
    it('forgot and resend are limited per account, whoever asks, and alike for unknown addresses', async () => {
      const known = await register(t.http, uniqueEmail('bombed'));
      const unknown = uniqueEmail('ghost');
      for (const email of [known.email, unknown]) {
        for (let i = 0; i < 3; i++) expect((await forgot(t.http, email, `192.0.2.${10 + i}`)).status).toBe(202);
        const refused = await forgot(t.http, email, '192.0.2.99');
        expectProblem(refused, 429, 'RATE_LIMITED');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      }
      // Resend counts apart from forgot.
      expect((await request(t.http).post('/auth/email/verify/resend').set('X-Forwarded-For', '192.0.2.50').send({ email: known.email })).status).toBe(202);
      await outboxIdle();
      expect(smtp.to(known.email).filter((m) => m.subject === 'Reset your password')).toHaveLength(3);
    });

    it('bad, forged or malformed tokens: one 400 code; bad bodies: VALIDATION_FAILED', async () => {
      const { email, id } = await register(t.http, uniqueEmail('forged'));
      await forgot(t.http, email);
      const real = tokenOf(await mailTo(email, 'Reset your password'));
      const forged = `${Buffer.from(id).toString('base64url')}.${'A'.repeat(43)}`;
      // One character of the secret changed: the first, whose 6 bits all count (the last one's low bits are padding).
      const at = real.indexOf('.') + 1;
      const tampered = `${real.slice(0, at)}${real[at] === 'A' ? 'B' : 'A'}${real.slice(at + 1)}`;
      for (const token of ['', 'garbage', forged, tampered, `${real}x`]) {
        expectProblem(await reset(token), 400, 'RECOVERY_TOKEN_INVALID');
        expectProblem(await verify(token), 400, 'RECOVERY_TOKEN_INVALID');
      }
      // A reset link is not a verification link.
      expectProblem(await verify(real), 400, 'RECOVERY_TOKEN_INVALID');
      expectProblem(await reset('x'.repeat(600)), 400, 'VALIDATION_FAILED');
      expectProblem(await request(t.http).post('/auth/password/reset').send({ token: real }), 400, 'VALIDATION_FAILED');
      expectProblem(await forgot(t.http, 'not-an-address'), 400, 'VALIDATION_FAILED');
      expectProblem(await request(t.http).post('/auth/email/verify/resend').send({ email: 'a@b.example', extra: 1 }), 400, 'VALIDATION_FAILED');
      expectProblem(await request(t.http).post('/auth/password/forgot').set('Content-Type', 'text/plain').send('a@b.example'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      // The real token survived all of that.
      expect((await reset(real)).status).toBe(204);
    });

    it('a refused delivery is retried: the mail still arrives, and the answer never waited for it', async () => {
      const { email } = await register(t.http, uniqueEmail('retry'));
      await mailTo(email, 'Verify your email address');
      smtp.refuse(1);
      const attempts = smtp.attempts;
      expect((await forgot(t.http, email)).status).toBe(202);
      const mail = await mailTo(email, 'Reset your password');
      expect(smtp.attempts - attempts).toBe(2);
      expect((await reset(tokenOf(mail))).status).toBe(204);
    });

    it('no audit line carries an address or a token', async () => {
      const text = raw.join('');
      for (const m of smtp.messages) {
        for (const to of m.to) expect(text).not.toContain(to);
        expect(text).not.toContain(tokenOf(m).split('.')[1]);
      }
    });
  });
});

describe('AUTH_REQUIRE_VERIFIED_EMAIL=true', () => {
  let smtp: SmtpHarness;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtp();
    t = await createTestApp({ redis: false, database: 'embedded', env: { MAIL_URL: smtp.url, AUTH_REQUIRE_VERIFIED_EMAIL: 'true' } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
  });

  it('refuses login to an unverified account with 403 EMAIL_NOT_VERIFIED, only after the password was checked; verified, it signs in', async () => {
    const { email } = await register(t.http, uniqueEmail('unverified'));
    expectProblem(await request(t.http).post('/auth/login').send({ email, password: 'wrong password entirely' }), 401, 'INVALID_CREDENTIALS');
    expectProblem(await request(t.http).post('/auth/login').send({ email, password: PASSWORD }), 403, 'EMAIL_NOT_VERIFIED');
    const origin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    expectProblem(await request(t.http).post('/auth/browser/login').set('Origin', origin).send({ email, password: PASSWORD }), 403, 'EMAIL_NOT_VERIFIED');

    const mail = await smtp.waitFor((m) => m.to.includes(email));
    const token = new URL(mail.link as string).searchParams.get('token');
    expect((await request(t.http).post('/auth/email/verify').send({ token })).status).toBe(204);
    expect((await login(t.http, email)).userId).toEqual(expect.any(String));
  });
});
