import request from 'supertest';
import { keySlot, startRedisCluster, type RedisClusterHarness } from '../support/redis-cluster';
import { bearer, createTestApp, eventually, expectProblem, refreshViaBody, registerAndLogin, sleep, type TestApp } from '../support/test-app';

/**
 * AUTH_REDIS_WAIT_REPLICAS=1 on a real Redis Cluster (3 masters, 3 replicas, started once for this
 * file): a logout is acknowledged only once a replica holds it, so a failover right after the 204
 * cannot bring the session back; with the replica unable to confirm, the logout answers 503 and
 * is never a 204 that a failover could undo.
 */
describe('logouts waiting for a replica on a Redis Cluster', () => {
  let cluster: RedisClusterHarness;
  let app: TestApp;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    app = await createTestApp({ env: { REDIS_CLUSTER_NODES: cluster.env, AUTH_REDIS_WAIT_REPLICAS: '1' } });
  }, 90_000);
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  }, 30_000);

  const sessionMaster = (userId: string) => cluster.masterOf(keySlot(`auth:{${userId}}`));
  const logout = (token: string) => request(app.http).post('/auth/logout').set('Authorization', bearer(token));

  it('the replica frozen: the logout answers 503 STORE_UNAVAILABLE; once it is back, the retry is a 204 and the session is over', async () => {
    const s = await registerAndLogin(app.http, { tag: 'wait-frozen' });
    const replica = await cluster.replicaOf(await sessionMaster(s.userId));
    await replica.pause();
    try {
      expectProblem(await logout(s.accessToken), 503, 'STORE_UNAVAILABLE');
    } finally {
      await replica.resume();
    }
    await cluster.waitHealthy();
    expect((await logout(s.accessToken)).status).toBe(204);
    expectProblem(await refreshViaBody(app.http, s.refreshToken), 401, 'REFRESH_TOKEN_INVALID');
    expectProblem(await request(app.http).get('/auth/me').set('Authorization', bearer(s.accessToken)), 401, 'SESSION_REVOKED');
  }, 30_000);

  // On loopback a replica usually holds a write within a millisecond, WAIT or not: this shows the
  // guarantee holding across a real failover; the frozen replica above shows WAIT enforcing it.
  it("a 204 logout survives its master's SIGKILL right after: the promoted replica has the session ended", async () => {
    const s = await registerAndLogin(app.http, { tag: 'wait-failover' });
    const witness = await registerAndLogin(app.http, { tag: 'wait-failover-live' });
    const master = await sessionMaster(s.userId);
    expect((await logout(s.accessToken)).status).toBe(204);
    await master.kill(); // at once: no waiting for replication beyond what the 204 promised

    // Until the replica takes over the slot, 503; then the truth, which must be "ended".
    let answer = await refreshViaBody(app.http, s.refreshToken);
    const deadline = Date.now() + 15_000;
    while (answer.status === 503 && Date.now() < deadline) {
      expect(answer.body.code).toBe('STORE_UNAVAILABLE');
      await sleep(100);
      answer = await refreshViaBody(app.http, s.refreshToken);
    }
    expectProblem(answer, 401, 'REFRESH_TOKEN_INVALID');
    // The revocation view may answer 503 until every master (the promoted one too) has proven it fresh.
    const me = () => request(app.http).get('/auth/me').set('Authorization', bearer(s.accessToken));
    expect(await eventually(async () => (await me()).status !== 503, 15_000, 100)).toBe(true);
    expectProblem(await me(), 401, 'SESSION_REVOKED');
    // The cluster carries on: another user's session still refreshes.
    expect(await eventually(async () => (await refreshViaBody(app.http, witness.refreshToken)).status === 200, 15_000, 100)).toBe(true);
  }, 60_000);
});
