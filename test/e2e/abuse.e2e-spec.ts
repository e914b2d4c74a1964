import request from 'supertest';
import { FakeClock } from '../support/fake-clock';
import {
  bearer,
  CHROME_ON_MACOS,
  createTestApp,
  expectProblem,
  FIREFOX_ON_WINDOWS,
  PASSWORD,
  register,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/**
 * Abuse resistance over HTTP (issue 4): rate limits, progressive lockout by account and by
 * account + address, the NIST 100-failure cap, uniform answers. The client address comes from
 * X-Forwarded-For only because these apps trust the loopback proxy (TRUST_PROXY=loopback).
 */
const HOUR = 3600;

async function eventCount(t: TestApp, event: string): Promise<number> {
  const res = await request(t.http).get('/metrics');
  const m = new RegExp(`^auth_events_total\\{event="${event.replace('.', '\\.')}"\\} (\\d+)$`, 'm').exec(res.text);
  return m ? Number(m[1]) : 0;
}

const relevantHeaders = ['content-type', 'content-length', 'cache-control', 'www-authenticate', 'retry-after', 'set-cookie'];
const pick = (h: Record<string, unknown>) => Object.fromEntries(relevantHeaders.map((k) => [k, h[k]]));

describe('progressive lockout (Redis + PostgreSQL, trusted loopback proxy)', () => {
  const clock = new FakeClock();
  let t: TestApp;
  let ipSeq = 1;
  /** A fresh client address for each call. */
  const freshIp = () => `198.51.${Math.floor(ipSeq / 250) % 250}.${(ipSeq++ % 250) + 1}`;

  beforeAll(async () => {
    t = await createTestApp({ clock, env: { TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => t?.close());

  const attempt = (email: string, password: string, ip: string) =>
    request(t.http).post('/auth/login').set('X-Forwarded-For', ip).send({ email, password, refreshTokenDelivery: 'body' });

  it('brute force from one address: after 5 failures that address waits (doubling), the victim elsewhere signs in at once', async () => {
    const { email } = await register(t.http, uniqueEmail('bf-one'));
    const attacker = '203.0.113.10';
    for (let i = 0; i < 5; i++) expectProblem(await attempt(email, `wrong guess ${i}`, attacker), 401, 'INVALID_CREDENTIALS');
    const lockedBefore = await eventCount(t, 'login.locked');
    // Even the right password is refused from there now, with the same answer as a wrong one.
    const refused = await attempt(email, PASSWORD, attacker);
    expectProblem(refused, 401, 'INVALID_CREDENTIALS');
    expect(refused.body.accessToken).toBeUndefined();
    expect(await eventCount(t, 'login.locked')).toBe(lockedBefore + 1);
    // The victim, from their own address, is not held by the attacker's delay.
    expect((await attempt(email, PASSWORD, '192.0.2.44')).status).toBe(200);
    // After the delay (2 s for the 6th attempt) the attacker's address may try again.
    clock.advanceSeconds(3);
    expect((await attempt(email, PASSWORD, attacker)).status).toBe(200);
  });

  it('a success resets the account+address counter', async () => {
    const { email } = await register(t.http, uniqueEmail('bf-reset'));
    const ip = freshIp();
    for (let i = 0; i < 4; i++) await attempt(email, 'wrong guess', ip);
    expect((await attempt(email, PASSWORD, ip)).status).toBe(200);
    for (let i = 0; i < 4; i++) expectProblem(await attempt(email, 'wrong guess', ip), 401, 'INVALID_CREDENTIALS');
    expect((await attempt(email, PASSWORD, ip)).status).toBe(200);
  });

  it('brute force from rotating addresses: after 10 failures the account waits; a known address is not held; after the delay the victim signs in', async () => {
    const { email } = await register(t.http, uniqueEmail('bf-rotate'));
    const home = freshIp();
    expect((await attempt(email, PASSWORD, home)).status).toBe(200); // the victim's usual address
    for (let i = 0; i < 10; i++) expectProblem(await attempt(email, `guess ${i}`, freshIp()), 401, 'INVALID_CREDENTIALS');
    // A new address, even with the right password: held by the account-wide delay (same answer).
    const newPlace = freshIp();
    expectProblem(await attempt(email, PASSWORD, newPlace), 401, 'INVALID_CREDENTIALS');
    // The victim's known address is not held by the account-wide delay.
    expect((await attempt(email, PASSWORD, home)).status).toBe(200);
    // A success resets the account counter too (the failures are no longer consecutive).
    expect((await attempt(email, PASSWORD, newPlace)).status).toBe(200);
  });

  it('the account-wide delay ends: the victim from a new address signs in after it', async () => {
    const { email } = await register(t.http, uniqueEmail('bf-delay'));
    for (let i = 0; i < 12; i++) {
      clock.advanceSeconds(HOUR); // past any delay: every guess is counted
      expectProblem(await attempt(email, `guess ${i}`, freshIp()), 401, 'INVALID_CREDENTIALS');
    }
    const victimIp = freshIp();
    expectProblem(await attempt(email, PASSWORD, victimIp), 401, 'INVALID_CREDENTIALS'); // 12 failures: 8 s delay
    clock.advanceSeconds(9);
    expect((await attempt(email, PASSWORD, victimIp)).status).toBe(200);
  });

  it('no more than 100 consecutive failures: the 101st attempt is not even checked, from any address; the account unlocks 24 h later', async () => {
    const { email } = await register(t.http, uniqueEmail('bf-cap'));
    const home = freshIp();
    expect((await attempt(email, PASSWORD, home)).status).toBe(200);
    const failuresBefore = await eventCount(t, 'login.failure');
    for (let i = 0; i < 100; i++) {
      clock.advanceSeconds(HOUR + 1); // longest delay: every one of these is a counted failure
      expectProblem(await attempt(email, `guess number ${i}`, freshIp()), 401, 'INVALID_CREDENTIALS');
    }
    expect((await eventCount(t, 'login.failure')) - failuresBefore).toBe(100);
    clock.advanceSeconds(HOUR + 1);
    const lockedBefore = await eventCount(t, 'login.locked');
    const failuresAt100 = await eventCount(t, 'login.failure');
    // Not a 101st failure: refused unchecked, whatever the password and address (the known one too).
    expectProblem(await attempt(email, 'guess number 101', freshIp()), 401, 'INVALID_CREDENTIALS');
    expectProblem(await attempt(email, PASSWORD, home), 401, 'INVALID_CREDENTIALS');
    expect(await eventCount(t, 'login.failure')).toBe(failuresAt100);
    expect(await eventCount(t, 'login.locked')).toBe(lockedBefore + 2);
    // Never locked forever: 24 h after the last counted failure the account opens again.
    clock.advanceSeconds(23 * HOUR);
    expect((await attempt(email, PASSWORD, home)).status).toBe(200);
  }, 120_000);

  it('identical status, body and headers for an unknown email, a wrong password and a locked account', async () => {
    const { email } = await register(t.http, uniqueEmail('uniform-lock'));
    const ip = freshIp();
    for (let i = 0; i < 5; i++) await attempt(email, 'wrong guess', ip);
    const locked = await attempt(email, PASSWORD, ip);
    const unknown = await attempt(uniqueEmail('nobody'), PASSWORD, freshIp());
    const wrong = await attempt(email, 'another wrong guess', freshIp());
    // An unknown email locks exactly like a real one: the lock says nothing about existence.
    const ghost = uniqueEmail('ghost');
    const ghostIp = freshIp();
    for (let i = 0; i < 5; i++) await attempt(ghost, 'wrong guess', ghostIp);
    const ghostLocked = await attempt(ghost, PASSWORD, ghostIp);
    for (const res of [locked, unknown, wrong, ghostLocked]) expectProblem(res, 401, 'INVALID_CREDENTIALS');
    for (const res of [unknown, wrong, ghostLocked]) {
      expect(res.text).toBe(locked.text);
      expect(pick(res.headers)).toEqual(pick(locked.headers));
    }
  });
});

describe('rate limits (AUTH_RATE_LIMIT_MAX=3 per 60 s)', () => {
  let t: TestApp;
  let untrusted: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: 'loopback', AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW: '60' } });
    untrusted = await createTestApp({ redis: t.env.REDIS_URL, env: { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW: '60' } });
  });
  afterAll(async () => {
    await untrusted?.close();
    await t?.close();
  });

  const loginFrom = (app: TestApp, ip: string, email = uniqueEmail('rl'), password = PASSWORD) =>
    request(app.http).post('/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  it('login: the 3rd failure from one address blocks it (429 RATE_LIMITED with Retry-After, before any password check); another address is unaffected', async () => {
    const { email } = await register(t.http, uniqueEmail('rl-victim'));
    for (let i = 0; i < 3; i++) expectProblem(await loginFrom(t, '203.0.113.50'), 401, 'INVALID_CREDENTIALS');
    const limited = await loginFrom(t, '203.0.113.50', email);
    // Even the right password: a blocked guesser learns nothing.
    expectProblem(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await loginFrom(t, '203.0.113.51', email)).status).toBe(200);
  });

  it('login: successes count nothing; failures of different accounts add up per address', async () => {
    const accounts: Array<{ email: string }> = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(t.http).post('/auth/register').set('X-Forwarded-For', `198.18.0.${i + 1}`).send({ email: uniqueEmail(`rl-ok-${i}`), password: PASSWORD });
      accounts.push(res.body as { email: string });
    }
    for (const a of accounts) expect((await loginFrom(t, '203.0.113.52', a.email)).status).toBe(200);
    expectProblem(await loginFrom(t, '203.0.113.52', accounts[0].email, 'wrong 1'), 401, 'INVALID_CREDENTIALS');
    expectProblem(await loginFrom(t, '203.0.113.52', accounts[1].email, 'wrong 2'), 401, 'INVALID_CREDENTIALS');
    expectProblem(await loginFrom(t, '203.0.113.52', accounts[2].email, 'wrong 3'), 401, 'INVALID_CREDENTIALS');
    expectProblem(await loginFrom(t, '203.0.113.52', accounts[3].email), 429, 'RATE_LIMITED');
  });

  it('register is limited per address; refresh only by a generous volume (its token is an unguessable secret)', async () => {
    const reg = () => request(t.http).post('/auth/register').set('X-Forwarded-For', '203.0.113.60').send({ email: uniqueEmail('rl-reg'), password: PASSWORD });
    for (let i = 0; i < 3; i++) expect((await reg()).status).toBe(201);
    expectProblem(await reg(), 429, 'RATE_LIMITED');
    const ref = () => request(t.http).post('/auth/refresh').set('X-Forwarded-For', '203.0.113.61').send({ refreshToken: 'nope' });
    // 100 × AUTH_RATE_LIMIT_MAX per window and address.
    for (let i = 0; i < 300; i++) expect((await ref()).status).toBe(401);
    expectProblem(await ref(), 429, 'RATE_LIMITED');
  });

  it('shared across instances: counters live in Redis', async () => {
    // `untrusted` shares t's Redis; both see loopback as the client when no proxy is trusted.
    const reg = (app: TestApp) => request(app.http).post('/auth/register').send({ email: uniqueEmail('rl-shared'), password: PASSWORD });
    for (let i = 0; i < 3; i++) await reg(untrusted);
    const second = await createTestApp({ redis: t.env.REDIS_URL, env: { AUTH_RATE_LIMIT_MAX: '3', AUTH_RATE_LIMIT_WINDOW: '60' } });
    try {
      expectProblem(await reg(second), 429, 'RATE_LIMITED');
    } finally {
      await second.close();
    }
  });

  it('without a trusted proxy, X-Forwarded-For is ignored: rotating it does not escape the limit', async () => {
    let limited = 0;
    for (let i = 0; i < 6; i++) {
      const res = await request(untrusted.http).post('/auth/register').set('X-Forwarded-For', `10.9.8.${i}`).send({ email: uniqueEmail('spoof'), password: 'x' });
      if (res.status === 429) limited++;
    }
    expect(limited).toBeGreaterThanOrEqual(3);
  });
});

describe('an office behind one address, at the default limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: 'loopback', AUTH_RATE_LIMIT_MAX: '10', AUTH_RATE_LIMIT_WINDOW: '300' } });
  });
  afterAll(() => t?.close());

  it('60 colleagues sign in and refresh from one address within a minute: no 429; a guesser there is stopped by the 10th failure', async () => {
    const office = '198.51.100.77';
    // Accounts made from elsewhere (registration keeps its strict per-address limit).
    const emails: string[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await request(t.http).post('/auth/register').set('X-Forwarded-For', `192.0.2.${i + 1}`).send({ email: uniqueEmail(`office-${i}`), password: PASSWORD });
      expect(res.status).toBe(201);
      emails.push(res.body.email as string);
    }
    const statuses: number[] = [];
    for (const email of emails) {
      const login = await request(t.http).post('/auth/login').set('X-Forwarded-For', office).send({ email, password: PASSWORD, refreshTokenDelivery: 'body' });
      statuses.push(login.status);
      const refreshed = await request(t.http).post('/auth/refresh').set('X-Forwarded-For', office).send({ refreshToken: login.body.refreshToken });
      statuses.push(refreshed.status);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // A guesser at the same address: nine failures answer 401, the tenth blocks the address.
    for (let i = 0; i < 10; i++) expectProblem(await request(t.http).post('/auth/login').set('X-Forwarded-For', office).send({ email: emails[i], password: `guess ${i}` }), 401, 'INVALID_CREDENTIALS');
    expectProblem(await request(t.http).post('/auth/login').set('X-Forwarded-For', office).send({ email: emails[11], password: 'guess 11' }), 429, 'RATE_LIMITED');
  });
});

describe('device binding at refresh', () => {
  let revoke: TestApp;
  let reject: TestApp;

  beforeAll(async () => {
    revoke = await createTestApp({ env: { AUTH_DEVICE_BINDING: 'ua' } });
    reject = await createTestApp({
      redis: false,
      database: 'embedded',
      env: { AUTH_DEVICE_BINDING: 'ua+subnet', AUTH_BINDING_MISMATCH_ACTION: 'reject', TRUST_PROXY: 'loopback' },
    });
  });
  afterAll(async () => {
    await reject?.close();
    await revoke?.close();
  });

  async function loginAs(t: TestApp, ua: string, ip = '198.51.100.7') {
    const { email } = await register(t.http, uniqueEmail('bind'));
    const res = await request(t.http)
      .post('/auth/login')
      .set('User-Agent', ua)
      .set('X-Forwarded-For', ip)
      .send({ email, password: PASSWORD, refreshTokenDelivery: 'body' });
    expect(res.status).toBe(200);
    return res.body as { accessToken: string; refreshToken: string };
  }
  const refresh = (t: TestApp, token: string, ua: string, ip = '198.51.100.7') =>
    request(t.http).post('/auth/refresh').set('User-Agent', ua).set('X-Forwarded-For', ip).send({ refreshToken: token });

  it('ua (default action revoke): the same browser after an update refreshes; another browser → 401 DEVICE_MISMATCH and the session is revoked', async () => {
    const s = await loginAs(revoke, CHROME_ON_MACOS);
    const updated = await refresh(revoke, s.refreshToken, CHROME_ON_MACOS.replace('126.0.0.0', '127.0.6533.72'));
    expect(updated.status).toBe(200);
    const before = await eventCount(revoke, 'refresh.binding_mismatch');
    expectProblem(await refresh(revoke, updated.body.refreshToken, FIREFOX_ON_WINDOWS), 401, 'DEVICE_MISMATCH');
    expect(await eventCount(revoke, 'refresh.binding_mismatch')).toBe(before + 1);
    // Revoked: the right device cannot refresh any more, and the access token is dead at once.
    expectProblem(await refresh(revoke, updated.body.refreshToken, CHROME_ON_MACOS), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await request(revoke.http).get('/auth/me').set('Authorization', bearer(updated.body.accessToken)), 401, 'SESSION_REVOKED');
  });

  it('binding is not checked on ordinary requests: the access token works from another browser', async () => {
    const s = await loginAs(revoke, CHROME_ON_MACOS);
    const res = await request(revoke.http).get('/auth/me').set('User-Agent', FIREFOX_ON_WINDOWS).set('Authorization', bearer(s.accessToken));
    expect(res.status).toBe(200);
  });

  it('ua+subnet with action reject: another /24 is refused, the session lives on; the same /24 refreshes', async () => {
    const s = await loginAs(reject, CHROME_ON_MACOS, '198.51.100.7');
    expectProblem(await refresh(reject, s.refreshToken, CHROME_ON_MACOS, '203.0.113.9'), 401, 'DEVICE_MISMATCH');
    expect((await refresh(reject, s.refreshToken, CHROME_ON_MACOS, '198.51.100.200')).status).toBe(200);
  });
});
