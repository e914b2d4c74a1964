import request from 'supertest';
import { createTestApp, decodeJwt, eventually, expectProblem, registerAndLogin, type TestApp } from '../support/test-app';

/**
 * RFC 7662 introspection for sibling services: client credentials (HTTP Basic), a form-encoded
 * `token`, `{active: true, …}` only for our own unexpired, unrevoked access tokens, answered from
 * the local revocation view on every instance.
 */
describe('token introspection (Redis + PostgreSQL, two instances)', () => {
  const SECRET = 'orders-service-secret-0123456789abcdef';
  const env = { AUTH_INTROSPECTION_CLIENTS: `orders:${SECRET},billing:${'b'.repeat(40)}` };
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ env });
    b = await createTestApp({ env: { ...a.env, ...env } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const introspect = (app: TestApp, token: string, auth = `orders:${SECRET}`) =>
    request(app.http).post('/auth/introspect').set('Authorization', `Basic ${Buffer.from(auth).toString('base64')}`).type('form').send({ token });

  it('refuses a caller without valid client credentials: 401 CLIENT_UNAUTHORIZED with a Basic challenge', async () => {
    const s = await registerAndLogin(a.http, { tag: 'introspect-auth' });
    const none = await request(a.http).post('/auth/introspect').type('form').send({ token: s.accessToken });
    expectProblem(none, 401, 'CLIENT_UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toMatch(/^Basic /);
    expectProblem(await introspect(a, s.accessToken, `orders:${SECRET.slice(0, -1)}x`), 401, 'CLIENT_UNAUTHORIZED');
    expectProblem(await introspect(a, s.accessToken, `nobody:${SECRET}`), 401, 'CLIENT_UNAUTHORIZED');
    // A user's bearer token is not a client credential.
    expectProblem(await request(a.http).post('/auth/introspect').set('Authorization', `Bearer ${s.accessToken}`).type('form').send({ token: s.accessToken }), 401, 'CLIENT_UNAUTHORIZED');
  });

  it('an active token: its ids, times, issuer, audience and client_id; anything else: {active: false}', async () => {
    const s = await registerAndLogin(a.http, { tag: 'introspect-active' });
    const claims = decodeJwt(s.accessToken).payload;
    const res = await introspect(b, s.accessToken);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      active: true,
      sub: s.userId,
      sid: s.sid,
      exp: claims.exp,
      iat: claims.iat,
      iss: claims.iss,
      aud: claims.aud,
      client_id: claims.client_id,
      token_type: 'Bearer',
    });
    const [head, payload, sig] = s.accessToken.split('.');
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${sig}`;
    for (const token of [s.refreshToken, forged, 'not-a-token']) expect((await introspect(b, token)).body).toEqual({ active: false });
    expect((await introspect(a, `${head}.${payload}`)).body).toEqual({ active: false });
  });

  it('after a logout on one instance, the other answers {active: false}', async () => {
    const s = await registerAndLogin(a.http, { tag: 'introspect-logout' });
    expect((await introspect(b, s.accessToken)).body.active).toBe(true);
    expect((await request(a.http).post('/auth/logout').set('Authorization', `Bearer ${s.accessToken}`)).status).toBe(204);
    expect(await eventually(async () => (await introspect(b, s.accessToken)).body.active === false, 5_000, 5)).toBe(true);
    expect((await introspect(a, s.accessToken)).body).toEqual({ active: false });
  });

  it('form-encoded only, a token required', async () => {
    const s = await registerAndLogin(a.http, { tag: 'introspect-form' });
    const auth = `Basic ${Buffer.from(`orders:${SECRET}`).toString('base64')}`;
    expectProblem(await request(a.http).post('/auth/introspect').set('Authorization', auth).send({ token: s.accessToken }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await request(a.http).post('/auth/introspect').set('Authorization', auth).type('form').send({ nothing: 'here' }), 400, 'VALIDATION_FAILED');
  });
});
