import request from 'supertest';
import {
  bearer,
  createTestApp,
  decodeJwt,
  expectProblem,
  PASSWORD,
  refreshCookieOf,
  refreshViaBody,
  register,
  registerAndLogin,
  REFRESH_COOKIE,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/**
 * Concurrent use of one refresh token (a second tab, a retry after a lost response, or a thief
 * racing the owner): rotation is one atomic store operation, so N parallel refreshes yield at most
 * one new lineage. Every request gets the same successor, with a reuse grace or without: the
 * previous token yields it as long as it is unused. Once it is used, the previous token is theft
 * (the session dies).
 */
const N = 50;

function tally(responses: request.Response[]): { ok: request.Response[]; codes: Record<string, number> } {
  const ok = responses.filter((r) => r.status === 200);
  const codes: Record<string, number> = {};
  for (const r of responses) {
    if (r.status === 200) continue;
    expect(r.status).toBe(401); // never a 500, never a 503
    codes[r.body.code] = (codes[r.body.code] ?? 0) + 1;
  }
  return { ok, codes };
}

describe('concurrent refreshes with REFRESH_REUSE_GRACE=10 (Redis + PostgreSQL)', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ env: { REFRESH_REUSE_GRACE: '10' } });
    b = await createTestApp({ env: { ...a.env } }); // a second instance on the same stores
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const me = (token: string) => request(a.http).get('/auth/me').set('Authorization', bearer(token));

  it(`${N} parallel refreshes of one token (body): all 200 with the SAME successor, which alone carries on`, async () => {
    const s = await registerAndLogin(a.http, { tag: 'race-body' });
    const responses = await Promise.all(Array.from({ length: N }, () => refreshViaBody(a.http, s.refreshToken)));
    const { ok, codes } = tally(responses);
    expect(codes).toEqual({});
    expect(ok).toHaveLength(N);

    const successors = new Set(ok.map((r) => r.body.refreshToken as string));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).not.toBe(s.refreshToken);
    // Every access token handed out belongs to the one session and works.
    for (const r of ok) expect(decodeJwt(r.body.accessToken).payload.sid).toBe(s.sid);
    expect((await me(ok[N - 1].body.accessToken)).status).toBe(200);

    // The lineage goes on from the successor only...
    const next = await refreshViaBody(a.http, successor);
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).not.toBe(successor);
    // ...and the original, now two rotations old, is a replay: theft, the session dies.
    expectProblem(await refreshViaBody(a.http, s.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    expectProblem(await refreshViaBody(a.http, next.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await me(next.body.accessToken), 401, 'SESSION_REVOKED');
  });

  it(`${N} parallel refreshes of one cookie: every response sets the same new cookie`, async () => {
    const { email } = await register(a.http, uniqueEmail('race-cookie'));
    const loginRes = await request(a.http).post('/auth/login').send({ email, password: PASSWORD });
    const cookie = refreshCookieOf(loginRes)!.value;
    const responses = await Promise.all(
      Array.from({ length: N }, () => request(a.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${cookie}`)),
    );
    const { ok, codes } = tally(responses);
    expect(codes).toEqual({});
    expect(ok).toHaveLength(N);
    const cookies = new Set(ok.map((r) => refreshCookieOf(r)?.value));
    expect(cookies.size).toBe(1);
    const [successor] = cookies;
    expect(successor).toBeDefined();
    expect(successor).not.toBe(cookie);
    const next = await request(a.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${REFRESH_COOKIE}=${successor}`);
    expect(next.status).toBe(200);
  });

  it(`${N} parallel refreshes split across two instances: still one successor`, async () => {
    const s = await registerAndLogin(a.http, { tag: 'race-replicas' });
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => refreshViaBody(i % 2 === 0 ? a.http : b.http, s.refreshToken)),
    );
    const { ok, codes } = tally(responses);
    expect(codes).toEqual({});
    expect(ok).toHaveLength(N);
    expect(new Set(ok.map((r) => r.body.refreshToken)).size).toBe(1);
    expect((await refreshViaBody(b.http, ok[0].body.refreshToken)).status).toBe(200);
  });

  it('parallel refreshes of the successor and replays of the original: no second lineage appears', async () => {
    // A thief replaying the original while the owner keeps rotating: whatever the interleaving,
    // the tokens that come back are the grace successor or one rotation of it, never a branch.
    const s = await registerAndLogin(a.http, { tag: 'race-mixed' });
    const first = await refreshViaBody(a.http, s.refreshToken);
    const successor = first.body.refreshToken as string;
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => refreshViaBody(a.http, i % 2 === 0 ? s.refreshToken : successor)),
    );
    const { ok, codes } = tally(responses);
    // Exactly one rotation of the successor can succeed; original-token requests may get the
    // grace successor only while the successor is still current.
    const newTokens = new Set(ok.map((r) => r.body.refreshToken as string).filter((tok) => tok !== successor));
    expect(newTokens.size).toBeLessThanOrEqual(1);
    for (const code of Object.keys(codes)) expect(['REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_INVALID']).toContain(code);
  });
});

describe('concurrent refreshes with REFRESH_REUSE_GRACE=0 (Redis + PostgreSQL)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { REFRESH_REUSE_GRACE: '0', AUTH_COMPROMISE_ACTION: 'REVOKE_SESSION' } });
  });
  afterAll(() => t?.close());

  it(`${N} parallel refreshes: all 200 with the SAME successor, as with a grace; nobody is logged out`, async () => {
    const s = await registerAndLogin(t.http, { tag: 'race-nograce' });
    const sibling = await registerAndLogin(t.http, { tag: 'race-nograce-other' });
    const responses = await Promise.all(Array.from({ length: N }, () => refreshViaBody(t.http, s.refreshToken)));
    const { ok, codes } = tally(responses);
    expect(codes).toEqual({});
    expect(ok).toHaveLength(N);
    expect(new Set(ok.map((r) => r.body.refreshToken)).size).toBe(1);
    const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));
    expect((await me(ok[N - 1].body.accessToken)).status).toBe(200);

    // The lineage carries on from the successor; then the original is a replay (theft, invariant
    // 2): the session is revoked, the winner's tokens included. Other users are unaffected.
    const next = await refreshViaBody(t.http, ok[0].body.refreshToken);
    expect(next.status).toBe(200);
    expectProblem(await refreshViaBody(t.http, s.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    expectProblem(await refreshViaBody(t.http, next.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await me(next.body.accessToken), 401, 'SESSION_REVOKED');
    expect((await refreshViaBody(t.http, sibling.refreshToken)).status).toBe(200);
  });

  it('with no grace, a sequential retry of the previous token gets the same successor; once that is used, the previous token is theft', async () => {
    const s = await registerAndLogin(t.http, { tag: 'nograce-seq' });
    const r1 = await refreshViaBody(t.http, s.refreshToken);
    expect(r1.status).toBe(200);
    const retry = await refreshViaBody(t.http, s.refreshToken);
    expect(retry.status).toBe(200);
    expect(retry.body.refreshToken).toBe(r1.body.refreshToken);
    const r2 = await refreshViaBody(t.http, r1.body.refreshToken);
    expect(r2.status).toBe(200);
    expectProblem(await refreshViaBody(t.http, s.refreshToken), 401, 'REFRESH_TOKEN_REUSED');
    expectProblem(await refreshViaBody(t.http, r2.body.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
  });

  it('parallel logins of one user create that many distinct sessions', async () => {
    const { email } = await register(t.http, uniqueEmail('parallel-login'));
    const logins = await Promise.all(
      // 5: the lockout admits (and counts up front) at most 5 concurrent attempts per account and address.
      Array.from({ length: 5 }, () => request(t.http).post('/auth/login').send({ email, password: PASSWORD, refreshTokenDelivery: 'body' })),
    );
    expect(logins.every((r) => r.status === 200)).toBe(true);
    const sids = new Set(logins.map((r) => decodeJwt(r.body.accessToken).payload.sid));
    expect(sids.size).toBe(5);
    const list = await request(t.http).get('/auth/sessions').set('Authorization', bearer(logins[0].body.accessToken));
    expect(list.body.sessions).toHaveLength(5);
  });
});
