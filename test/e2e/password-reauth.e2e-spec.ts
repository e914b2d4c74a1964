import { Controller, Module, Post } from '@nestjs/common';
import request from 'supertest';
import { CurrentUser, RequireRecentAuth } from '../../src/auth';
import { FakeClock } from '../support/fake-clock';
import {
  bearer,
  createTestApp,
  decodeJwt,
  expectProblem,
  login,
  PASSWORD,
  refreshViaBody,
  register,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/** Password policy over HTTP, change-password, and the recent-authentication requirement (issue 4). */
describe('password policy, change password, recent authentication', () => {
  const clock = new FakeClock();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ clock, redis: false, database: 'embedded', env: { AUTH_REAUTH_MAX_AGE: '300' } });
  });
  afterAll(() => t?.close());

  const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));
  const changePassword = (token: string, currentPassword: string, newPassword: string) =>
    request(t.http).post('/auth/password').set('Authorization', bearer(token)).send({ currentPassword, newPassword });

  describe('policy at registration', () => {
    const email = uniqueEmail('policy');
    const cases: Array<[string, string, 'ok' | RegExp]> = [
      ['7 characters', 'zqxjkvw', /at least 8/],
      ['8 characters', 'zqxjkvwm', 'ok'],
      ['8 code points as emoji (no composition rules)', '🐱🐶🐭🐹🐰🦊🐻🐼', 'ok'],
      ['64 characters', 'k'.repeat(30) + 'j'.repeat(34), 'ok'],
      ['256 characters', 'm'.repeat(256), 'ok'],
      ['257 characters: refused, never truncated', 'n'.repeat(257), /at most 256/],
      ['only lower-case letters', 'plainlowercasewords', 'ok'],
      ['a common password', 'password123', /too common/],
      ['a common password with a year', 'Liverpool2012', /too common/],
      ['a common password in full-width letters (NFKC)', 'ｐａｓｓｗｏｒｄ１', /too common/],
      ['the email address', email, /email address/],
      ['the email local part inside', `my ${email.split('@')[0]} secret`, /email address/],
    ];
    it.each(cases)('%s', async (_name, password, expected) => {
      const res = await request(t.http).post('/auth/register').send({ email: expected === 'ok' ? uniqueEmail('policy-ok') : email, password });
      if (expected === 'ok') {
        expect(res.status).toBe(201);
      } else {
        const body = expectProblem(res, 400, 'PASSWORD_REJECTED');
        expect(body.detail).toMatch(expected);
      }
    });

    it('NFKC: a password registered in full-width letters signs in typed in plain ASCII', async () => {
      const { email: e } = await register(t.http, uniqueEmail('nfkc'), 'ｑｕｉｅｔ ｒｉｖｅｒ ｓｔｏｎｅ');
      expect((await request(t.http).post('/auth/login').send({ email: e, password: 'quiet river stone' })).status).toBe(200);
    });
  });

  describe('change password', () => {
    it('needs the current password, revokes every other session and keeps the current one', async () => {
      const { email } = await register(t.http, uniqueEmail('chpw'));
      const other = await login(t.http, email);
      const current = await login(t.http, email);

      expectProblem(await changePassword(current.accessToken, 'not my password', 'a brand new passphrase'), 401, 'INVALID_CREDENTIALS');
      expectProblem(await changePassword(current.accessToken, PASSWORD, 'password123'), 400, 'PASSWORD_REJECTED');
      expect((await me(other.accessToken)).status).toBe(200); // failures changed nothing

      const res = await changePassword(current.accessToken, PASSWORD, 'a brand new passphrase');
      expect(res.status).toBe(204);
      expectProblem(await me(other.accessToken), 401, 'SESSION_REVOKED');
      expectProblem(await refreshViaBody(t.http, other.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
      expect((await me(current.accessToken)).status).toBe(200);
      expect((await refreshViaBody(t.http, current.refreshToken)).status).toBe(200);

      expectProblem(await request(t.http).post('/auth/login').send({ email, password: PASSWORD }), 401, 'INVALID_CREDENTIALS');
      expect((await request(t.http).post('/auth/login').send({ email, password: 'a brand new passphrase' })).status).toBe(200);
    });

    it('guessing the current password counts against the account lockout like failed logins; locked, even the right one is refused, here and at login', async () => {
      const { email } = await register(t.http, uniqueEmail('chpw-guess'));
      const other = await login(t.http, email);
      const current = await login(t.http, email);
      // 5 free failures per account and address (the login lockout's), then a wait.
      for (let i = 0; i < 5; i++) expectProblem(await changePassword(current.accessToken, `guess number ${i}`, 'a brand new passphrase'), 401, 'INVALID_CREDENTIALS');
      const locked = await changePassword(current.accessToken, PASSWORD, 'a brand new passphrase');
      expectProblem(locked, 401, 'INVALID_CREDENTIALS');
      expectProblem(await request(t.http).post('/auth/login').send({ email, password: PASSWORD }), 401, 'INVALID_CREDENTIALS');
      // Nothing changed and nobody was logged out by the guesses.
      expect((await me(other.accessToken)).status).toBe(200);
      expect((await me(current.accessToken)).status).toBe(200);

      // Once the wait is over (2 s after the 5th failure), the right password goes through.
      clock.advanceSeconds(3);
      expect((await changePassword(current.accessToken, PASSWORD, 'a brand new passphrase')).status).toBe(204);
      expect((await request(t.http).post('/auth/login').send({ email, password: 'a brand new passphrase' })).status).toBe(200);
    });

    it('needs a bearer token', async () => {
      expectProblem(await request(t.http).post('/auth/password').send({ currentPassword: PASSWORD, newPassword: 'whatever passphrase' }), 401, 'ACCESS_TOKEN_MISSING');
    });
  });

  describe('recent authentication', () => {
    it('change password and logout-all need auth_time within AUTH_REAUTH_MAX_AGE: else 401 REAUTHENTICATION_REQUIRED (RFC 9470 challenge)', async () => {
      const { email } = await register(t.http, uniqueEmail('reauth'));
      const s = await login(t.http, email);
      clock.advanceSeconds(200);
      const refreshed = await refreshViaBody(t.http, s.refreshToken);
      expect(refreshed.status).toBe(200);
      // A refresh keeps the login's auth_time.
      expect(decodeJwt(refreshed.body.accessToken).payload.auth_time).toBe(decodeJwt(s.accessToken).payload.auth_time);
      clock.advanceSeconds(101);

      const stale = refreshed.body.accessToken as string;
      const refused = await changePassword(stale, PASSWORD, 'a brand new passphrase');
      const body = expectProblem(refused, 401, 'REAUTHENTICATION_REQUIRED');
      expect(body.title).toEqual(expect.any(String));
      expect(refused.headers['www-authenticate']).toBe('Bearer error="insufficient_user_authentication", max_age=300');
      expectProblem(await request(t.http).post('/auth/logout-all').set('Authorization', bearer(stale)), 401, 'REAUTHENTICATION_REQUIRED');
      // Ordinary routes are unaffected.
      expect((await me(stale)).status).toBe(200);

      // Signing in again gives a fresh auth_time.
      const fresh = await login(t.http, email);
      expect((await changePassword(fresh.accessToken, PASSWORD, 'a brand new passphrase')).status).toBe(204);
      expect((await request(t.http).post('/auth/logout-all').set('Authorization', bearer(fresh.accessToken))).status).toBe(204);
    });
  });
});

/** A feature module outside src/auth, importing only the auth index, marks its own sensitive route. */
@Controller('feature')
class FeatureController {
  @RequireRecentAuth(60)
  @Post('transfer')
  transfer(@CurrentUser('sub') sub: string): { ok: true; sub: string } {
    return { ok: true, sub };
  }
}
@Module({ controllers: [FeatureController] })
class FeatureModule {}

describe('@RequireRecentAuth in a feature module', () => {
  const clock = new FakeClock();
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ clock, redis: false, database: 'embedded', imports: [FeatureModule] });
  });
  afterAll(() => t?.close());

  it('its own max age (60 s) applies; without a token the global guard answers first', async () => {
    const { email } = await register(t.http, uniqueEmail('feature'));
    const s = await login(t.http, email);
    const transfer = (token?: string) => {
      const req = request(t.http).post('/feature/transfer');
      return token ? req.set('Authorization', bearer(token)) : req;
    };
    expectProblem(await transfer(), 401, 'ACCESS_TOKEN_MISSING');
    expect((await transfer(s.accessToken)).body).toEqual({ ok: true, sub: s.userId });
    clock.advanceSeconds(61);
    const refused = await transfer(s.accessToken);
    expectProblem(refused, 401, 'REAUTHENTICATION_REQUIRED');
    expect(refused.headers['www-authenticate']).toContain('max_age=60');
  });
});
