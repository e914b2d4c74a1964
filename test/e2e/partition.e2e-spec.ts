import request from 'supertest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import {
  bearer,
  createTestApp,
  eventually,
  expectProblem,
  login,
  register,
  registerAndLogin,
  refreshViaBody,
  sleep,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/**
 * A partition (issue 15, item 1): instance A reaches Redis through a link that goes silent without
 * closing; instance B reaches it directly. A session logged out on B must not be accepted by A for
 * longer than AUTH_REVOCATION_MAX_STALENESS: A's local revocation view notices that its feed has
 * stopped answering, cannot confirm against the store, and answers 503 STORE_UNAVAILABLE. Once
 * the link is back, A refuses the logged-out session (401) and serves everyone else again.
 */
describe('partition: one instance cut off from Redis by a silent link (Redis + PostgreSQL)', () => {
  let b: TestApp;
  let a: TestApp;
  let proxy: TcpProxy;

  beforeAll(async () => {
    b = await createTestApp();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: b.redis!.port });
    a = await createTestApp({ env: { ...b.env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` } });
  }, 60_000);
  afterAll(async () => {
    proxy?.resume();
    await a?.close();
    await proxy?.close();
    await b?.close();
  });

  const me = (t: TestApp, token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));

  it('a logout on B is refused by A within the staleness budget: 503, never a late 200; nobody else is logged out', async () => {
    const budget = a.config.revocationMaxStaleness;
    expect(budget).toBe(2000); // the default
    const { email } = await register(b.http, uniqueEmail('partition'));
    const victim = await login(b.http, email);
    const sibling = await login(b.http, email); // the same user, another device
    const bystander = await registerAndLogin(b.http, { tag: 'partition-bystander' });
    expect(await eventually(async () => (await request(a.http).get('/health/ready')).status === 200, 10_000, 50)).toBe(true);
    for (const s of [victim, sibling, bystander]) expect((await me(a, s.accessToken)).status).toBe(200);

    proxy.stall();
    const stalledAt = Date.now();
    expect((await request(b.http).post('/auth/logout').set('Authorization', bearer(victim.accessToken))).status).toBe(204);
    const loggedOutAt = Date.now();
    expectProblem(await me(b, victim.accessToken), 401, 'SESSION_REVOKED');

    // A is asked again and again, as a client would, until it stops answering 200.
    const answers: Array<{ sentAt: number; doneAt: number; res: request.Response }> = [];
    for (;;) {
      const sentAt = Date.now();
      const res = await me(a, victim.accessToken);
      answers.push({ sentAt, doneAt: Date.now(), res });
      if (res.status !== 200 || sentAt - stalledAt > 20_000) break;
      await sleep(10);
    }
    const refusal = answers[answers.length - 1];
    expectProblem(refusal.res, 503, 'STORE_UNAVAILABLE');
    expect(Number(refusal.res.headers['retry-after'])).toBeGreaterThan(0);
    // No 200 for a request sent after the budget: A's last proof of its feed predates the stall.
    const lastOk = answers.filter((x) => x.res.status === 200).pop();
    if (lastOk) expect(lastOk.sentAt - stalledAt).toBeLessThanOrEqual(budget);
    const refusedAfterLogout = refusal.doneAt - loggedOutAt;
    const refusedAfterStall = refusal.doneAt - stalledAt;
    expect(refusedAfterStall).toBeLessThanOrEqual(budget + budget / 2);

    // A can confirm nothing: every bearer request is 503 (not 401: no one else was logged out).
    for (const s of [sibling, bystander]) expectProblem(await me(a, s.accessToken), 503, 'STORE_UNAVAILABLE');
    const quick = Date.now();
    expectProblem(await me(a, sibling.accessToken), 503, 'STORE_UNAVAILABLE');
    const quickMs = Date.now() - quick;
    // B, on the other side, serves them as before.
    for (const s of [sibling, bystander]) expect((await me(b, s.accessToken)).status).toBe(200);

    // The link comes back: A knows the logout, and everyone else carries on there.
    proxy.resume();
    expect(await eventually(async () => (await me(a, victim.accessToken)).status === 401, 15_000, 50)).toBe(true);
    expectProblem(await me(a, victim.accessToken), 401, 'SESSION_REVOKED');
    for (const s of [sibling, bystander]) expect((await me(a, s.accessToken)).status).toBe(200);
    expect((await refreshViaBody(a.http, sibling.refreshToken)).status).toBe(200);
    expect((await refreshViaBody(a.http, bystander.refreshToken)).status).toBe(200);

    // The figures, on request (E2E_LOG=1): a green run prints nothing.
    if (process.env.E2E_LOG) console.log(
      `partition: budget ${budget} ms; A refused the logged-out session ${refusedAfterLogout} ms after B's logout ` +
        `(${refusedAfterStall} ms after the stall); last 200 sent ${lastOk ? lastOk.sentAt - stalledAt : '-'} ms after the stall; ` +
        `${answers.length} requests; a refusal during the partition took ${quickMs} ms`,
    );
  }, 60_000);
});
