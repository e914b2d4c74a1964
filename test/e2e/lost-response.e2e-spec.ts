import request from 'supertest';
import { FakeClock } from '../support/fake-clock';
import { bearer, createTestApp, eventually, expectProblem, login, refreshViaBody, register, registerAndLogin, uniqueEmail, type TestApp } from '../support/test-app';

/**
 * A lost response is not theft (issue 15, item 2; DESIGN invariant 3). Redis hangs while a refresh
 * is in flight: the client gets 503 once the command times out, and the rotation, queued on the
 * connection, runs when Redis wakes up. The client never saw its new token, so it retries with the
 * one it has, long after the reuse grace: it gets the successor that rotation made, and nobody is
 * logged out. Only once that successor has been used is the old token theft, handled as before
 * (REVOKE_ALL, the default: every session of the user).
 */
describe('a refresh response lost to a hung Redis (Redis + PostgreSQL)', () => {
  const clock = new FakeClock();
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ clock });
  });
  afterAll(async () => {
    if (t?.redis?.running) await t.redis.resume().catch(() => undefined);
    await t?.close();
  });

  const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));
  const lastUsedOf = async (token: string, sid: string): Promise<string | undefined> => {
    const res = await request(t.http).get('/auth/sessions').set('Authorization', bearer(token));
    expect(res.status).toBe(200);
    return (res.body.sessions as Array<{ id: string; lastUsedAt: string }>).find((x) => x.id === sid)?.lastUsedAt;
  };

  it('the retry after the grace gets the queued rotation\u2019s successor and revokes nothing; the old token after that successor is used is theft', async () => {
    expect(t.config.compromiseAction).toBe('REVOKE_ALL');
    const grace = t.config.refreshReuseGrace;
    const { email } = await register(t.http, uniqueEmail('lost-response'));
    const s = await login(t.http, email);
    const other = await login(t.http, email); // the same user on another device
    const bystander = await registerAndLogin(t.http, { tag: 'lost-response-bystander' });
    clock.advanceSeconds(1); // the rotation's time is then told apart from the login's
    const sentAt = clock.now();

    await t.redis!.pause();
    let lost: request.Response;
    try {
      lost = await refreshViaBody(t.http, s.refreshToken);
    } finally {
      await t.redis!.resume();
    }
    const answeredAt = clock.now();
    expectProblem(lost, 503, 'STORE_UNAVAILABLE');
    expect(lost.body).not.toHaveProperty('refreshToken');
    expect(await eventually(async () => (await request(t.http).get('/health/ready')).status === 200, 10_000, 50)).toBe(true);

    // The rotation did run once Redis woke up: the session was used at the time of the lost request.
    const rotatedAt = await lastUsedOf(other.accessToken, s.sid);
    expect(Date.parse(rotatedAt!)).toBeGreaterThanOrEqual(sentAt);
    expect(Date.parse(rotatedAt!)).toBeLessThanOrEqual(answeredAt);

    // The client retries with the token it has, after the grace.
    clock.advanceSeconds(grace + 5);
    const retry = await refreshViaBody(t.http, s.refreshToken);
    expect(retry.status).toBe(200);
    expect(retry.body.refreshToken).not.toBe(s.refreshToken);
    expect((await me(retry.body.accessToken)).body).toEqual({ sub: s.userId, sid: s.sid });
    // The successor that rotation made, not a new branch: the session was not rotated again.
    expect(await lastUsedOf(retry.body.accessToken, s.sid)).toBe(rotatedAt);
    const again = await refreshViaBody(t.http, s.refreshToken);
    expect(again.body.refreshToken).toBe(retry.body.refreshToken);

    // Nobody was logged out.
    for (const x of [s, other, bystander]) expect((await me(x.accessToken)).status).toBe(200);
    const otherNext = await refreshViaBody(t.http, other.refreshToken);
    expect(otherNext.status).toBe(200);

    // The successor is used: the token before it is theft from now on.
    const used = await refreshViaBody(t.http, retry.body.refreshToken);
    expect(used.status).toBe(200);
    expectProblem(await refreshViaBody(t.http, s.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    // REVOKE_ALL, as before: every session of the user ends; the bystander carries on.
    expectProblem(await me(used.body.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await refreshViaBody(t.http, used.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await me(otherNext.body.accessToken), 401, 'SESSION_REVOKED');
    expectProblem(await refreshViaBody(t.http, otherNext.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    expect((await me(bystander.accessToken)).status).toBe(200);
    expect((await refreshViaBody(t.http, bystander.refreshToken)).status).toBe(200);
  }, 60_000);
});
