import request from 'supertest';
import { startRedisSentinel, type RedisSentinelHarness } from '../support/redis-sentinel';
import { bearer, createTestApp, expectProblem, refreshViaBody, registerAndLogin, sleep, type TestApp } from '../support/test-app';

/**
 * The app on a master found through Sentinel (1 master, 1 replica, 3 sentinels): the master is
 * killed with SIGKILL, the sentinels promote the replica, and the app carries on without a
 * restart, answering 503 STORE_UNAVAILABLE meanwhile and never accepting a revoked token.
 */
describe('Redis through Sentinel, with a failover', () => {
  let sentinel: RedisSentinelHarness;
  let t: TestApp;

  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    t = await createTestApp({ env: { REDIS_SENTINELS: sentinel.env, REDIS_SENTINEL_NAME: sentinel.name } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await sentinel?.stop();
  }, 30_000);

  const me = (token: string) => request(t.http).get('/auth/me').set('Authorization', bearer(token));

  it('the master killed: the replica is promoted and the app carries on within 10 s', async () => {
    const s = await registerAndLogin(t.http, { tag: 'sentinel' });
    const revoked = await registerAndLogin(t.http, { tag: 'sentinel-revoked' });
    expect((await request(t.http).post('/auth/logout').set('Authorization', bearer(revoked.accessToken))).status).toBe(204);
    // The logout has reached the replica before the kill (see docs/architecture.md: a failover
    // may lose the master's last writes).
    await sentinel.waitReplicated();

    await sentinel.master.kill();
    const killedAt = Date.now();
    const seen = new Set<number>();
    let token = s.refreshToken;
    let recoveredAt = 0;
    while (Date.now() - killedAt < 20_000) {
      const r = await refreshViaBody(t.http, token);
      expect([200, 503]).toContain(r.status);
      if (r.status === 503) expect(r.body.code).toBe('STORE_UNAVAILABLE');
      seen.add(r.status);
      if (r.status === 200) token = r.body.refreshToken;
      const m = await me(revoked.accessToken);
      expect([401, 503]).toContain(m.status);
      if (r.status === 200 && m.status === 401 && seen.has(503)) {
        recoveredAt = Date.now();
        break;
      }
      await sleep(100);
    }
    expect(seen.has(503)).toBe(true);
    expect(recoveredAt).toBeGreaterThan(0);
    expect(recoveredAt - killedAt).toBeLessThan(10_000);
    expect(await sentinel.masterPort()).toBe(sentinel.replica.port);
    expect((await refreshViaBody(t.http, token)).status).toBe(200);
    expectProblem(await me(revoked.accessToken), 401, 'SESSION_REVOKED');
  }, 60_000);
});
