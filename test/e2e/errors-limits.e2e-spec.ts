import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { RecordingLogger } from '../support/recording-logger';
import {
  bearer,
  createTestApp,
  expectProblem,
  PASSWORD,
  register,
  registerAndLogin,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

/**
 * Bad input and error shape over HTTP: every error is problem+json with a stable code and no
 * internal detail; every input is bounded (body, fields, tokens, headers); credential failures are
 * indistinguishable; security and caching headers are present.
 */
describe('errors, limits and headers (Redis + PostgreSQL)', () => {
  let t: TestApp;

  // Nest's default handler logs the host's parser refusals (below) as errors: kept, and asserted.
  const logs = new RecordingLogger();
  beforeAll(async () => {
    t = await createTestApp({ logger: logs });
  });
  afterAll(() => t?.close());

  const postJson = (path: string, raw: string, contentType = 'application/json') =>
    request(t.http).post(path).set('Content-Type', contentType).send(raw);

  describe('body parsing', () => {
    // This app mounts Nest's default parsers (as main.ts does): a body the host's express.json
    // cannot parse is refused by the host, in the host's format, before auth sees it. The same
    // requests to a host without parsers get auth's codes: test/e2e/host.e2e-spec.ts.
    it("malformed JSON → 400 (the host's parser refuses it first), never 500", async () => {
      for (const raw of ['{"email": "a@b.c", ', '{email: nope}', '"just a string"', 'null']) {
        const res = await postJson('/auth/login', raw);
        expect(res.status).toBe(400);
        expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
      }
    });

    it('a top-level JSON array → 400 VALIDATION_FAILED, not 500', async () => {
      expectProblem(await postJson('/auth/login', '[]'), 400, 'VALIDATION_FAILED');
      expectProblem(await postJson('/auth/register', JSON.stringify([{ email: uniqueEmail(), password: PASSWORD }])), 400, 'VALIDATION_FAILED');
    });

    it('a body over 16 KB → 413 PAYLOAD_TOO_LARGE', async () => {
      const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(17 * 1024) });
      expectProblem(await postJson('/auth/login', big), 413, 'PAYLOAD_TOO_LARGE');
      // Just under the limit parses (and then fails validation on the field length instead).
      const under = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(15 * 1024) });
      expectProblem(await postJson('/auth/login', under), 400, 'VALIDATION_FAILED');
    });

    it('an unsupported charset → 415 (from the host\'s parser, or auth for a type the host does not parse)', async () => {
      logs.clear();
      expect((await postJson('/auth/login', '{}', 'application/json; charset=koi8-r')).status).toBe(415);
      expect(logs.alarms()).toEqual(['ERROR [ExceptionsHandler] unsupported charset "KOI8-R"']);
      expectProblem(await postJson('/auth/login', '{}', 'application/vnd.api+json; charset=koi8-r'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('content types', () => {
    it('a form-encoded or text body → 415 UNSUPPORTED_MEDIA_TYPE (no login CSRF through a cross-site form)', async () => {
      const form = await request(t.http)
        .post('/auth/login')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send(`email=${encodeURIComponent(uniqueEmail())}&password=${encodeURIComponent(PASSWORD)}`);
      expectProblem(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectProblem(await postJson('/auth/login', '{}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectProblem(await postJson('/auth/register', '{}', 'multipart/form-data; boundary=x'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('JSON with a vendor +json type and a charset parameter is accepted', async () => {
      // The body is parsed: the credentials reach the check (they are wrong), not a validation error.
      const body = JSON.stringify({ email: uniqueEmail('vendor-json'), password: PASSWORD });
      expectProblem(await postJson('/auth/login', body, 'application/vnd.api+json; charset=utf-8'), 401, 'INVALID_CREDENTIALS');
    });

    it('a bodyless POST needs no content type', async () => {
      expectProblem(await request(t.http).post('/auth/logout'), 401, 'ACCESS_TOKEN_MISSING');
    });
  });

  describe('validation', () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['login: unknown field', '/auth/login', { email: 'a@example.com', password: PASSWORD, admin: true }],
      ['login: missing password', '/auth/login', { email: 'a@example.com' }],
      ['login: missing email', '/auth/login', { password: PASSWORD }],
      ['login: email is a number', '/auth/login', { email: 42, password: PASSWORD }],
      ['login: password is an array', '/auth/login', { email: 'a@example.com', password: [PASSWORD] }],
      ['login: password is an object', '/auth/login', { email: 'a@example.com', password: { $ne: '' } }],
      ['login: unknown delivery', '/auth/login', { email: 'a@example.com', password: PASSWORD, refreshTokenDelivery: 'sms' }],
      ['login: overlong email', '/auth/login', { email: `${'a'.repeat(250)}@x.io`, password: PASSWORD }],
      ['login: overlong password', '/auth/login', { email: 'a@example.com', password: 'p'.repeat(1025) }],
      ['register: unknown field', '/auth/register', { email: uniqueEmail(), password: PASSWORD, role: 'admin' }],
      ['register: missing password', '/auth/register', { email: uniqueEmail() }],
      ['register: overlong email', '/auth/register', { email: `${'a'.repeat(250)}@x.io`, password: PASSWORD }],
      ['register: overlong password', '/auth/register', { email: uniqueEmail(), password: 'p'.repeat(1025) }],
      ['register: email null', '/auth/register', { email: null, password: PASSWORD }],
      ['refresh: overlong refreshToken', '/auth/refresh', { refreshToken: 'r'.repeat(301) }],
      ['refresh: refreshToken is a number', '/auth/refresh', { refreshToken: 12345 }],
      ['refresh: unknown field', '/auth/refresh', { refreshToken: 'x', extra: 1 }],
      ['logout: unknown field', '/auth/logout', { nope: 1 }],
    ];

    it.each(cases)('%s → 400 VALIDATION_FAILED with field errors that do not echo the value', async (_name, path, body) => {
      const res = await request(t.http).post(path).send(body);
      const problem = expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: expect.any(String), message: expect.any(String) })]));
      expect(res.text).not.toContain('p'.repeat(100));
      expect(res.text).not.toContain(PASSWORD);
    });

    it('register: an address that is not an email → 400 VALIDATION_FAILED, not 500', async () => {
      for (const email of ['not-an-email', 'two@@example.com', 'a@b', 'spa ce@example.com', 'x@example..com']) {
        const res = await request(t.http).post('/auth/register').send({ email, password: PASSWORD });
        try {
          expectProblem(res, 400, 'VALIDATION_FAILED');
        } catch (e) {
          throw new Error(`${email}: ${(e as Error).message}`);
        }
      }
    });

    it('a path parameter with broken percent-encoding is a 4xx (routing, answered by the host), not 500', async () => {
      const s = await registerAndLogin(t.http, { tag: 'uri' });
      const res = await request(t.http).delete('/auth/sessions/%E0%A4%A').set('Authorization', bearer(s.accessToken));
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });
  });

  describe('registration outcomes', () => {
    it('a taken email (in any letter case) → 409 EMAIL_TAKEN', async () => {
      const email = uniqueEmail('dup');
      await register(t.http, email);
      expectProblem(await request(t.http).post('/auth/register').send({ email, password: 'another fine passphrase' }), 409, 'EMAIL_TAKEN');
      expectProblem(
        await request(t.http).post('/auth/register').send({ email: email.toUpperCase(), password: 'another fine passphrase' }),
        409,
        'EMAIL_TAKEN',
      );
    });

    it.each([
      ['too short', 'short'],
      ['a common password', 'password'],
      ['another common password', 'qwertyuiop'],
    ])('a weak password (%s) → 400 PASSWORD_REJECTED with a human detail', async (_name, password) => {
      const res = await request(t.http).post('/auth/register').send({ email: uniqueEmail('weak'), password });
      const body = expectProblem(res, 400, 'PASSWORD_REJECTED');
      expect(body.detail).toEqual(expect.any(String));
      expect(res.text).not.toContain(JSON.stringify(password)); // the value is never echoed
    });

    it('a password containing the email local part → 400 PASSWORD_REJECTED', async () => {
      const email = uniqueEmail('localpart');
      const res = await request(t.http).post('/auth/register').send({ email, password: `my ${email.split('@')[0]} pass` });
      expectProblem(res, 400, 'PASSWORD_REJECTED');
    });
  });

  describe('credential failures are uniform', () => {
    it('unknown email and wrong password give the same 401 INVALID_CREDENTIALS, body and headers', async () => {
      const { email } = await register(t.http, uniqueEmail('uniform'));
      const unknown = await request(t.http).post('/auth/login').send({ email: uniqueEmail('nobody'), password: PASSWORD });
      const wrong = await request(t.http).post('/auth/login').send({ email, password: 'wrong password entirely' });
      const malformedEmail = await request(t.http).post('/auth/login').send({ email: 'not-an-email', password: PASSWORD });
      for (const res of [unknown, wrong, malformedEmail]) {
        expectProblem(res, 401, 'INVALID_CREDENTIALS');
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      expect(wrong.text).toBe(unknown.text);
      expect(malformedEmail.text).toBe(unknown.text);
      const relevant = ['content-type', 'content-length', 'cache-control', 'www-authenticate', 'retry-after', 'set-cookie'];
      const pick = (h: Record<string, unknown>) => Object.fromEntries(relevant.map((k) => [k, h[k]]));
      expect(pick(wrong.headers)).toEqual(pick(unknown.headers));
      expect(pick(malformedEmail.headers)).toEqual(pick(unknown.headers));
      // And the right password still works (the failures did not lock anything).
      expect((await request(t.http).post('/auth/login').send({ email, password: PASSWORD })).status).toBe(200);
    });
  });

  describe('routing and transport limits', () => {
    it("an unknown route → the host's own 404 (auth does not rewrite routing), even without a token", async () => {
      for (const res of [await request(t.http).get('/definitely/not/here'), await request(t.http).post('/auth/definitely-not')]) {
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body).toEqual(expect.objectContaining({ statusCode: 404 }));
      }
    });

    it("a known auth path with another method → 405 METHOD_NOT_ALLOWED with Allow; each listed method is routed", async () => {
      const routes: Record<string, string[]> = {
        '/auth/register': ['POST'],
        '/auth/login': ['POST'],
        '/auth/refresh': ['POST'],
        '/auth/logout': ['POST'],
        '/auth/logout-all': ['POST'],
        '/auth/password': ['POST'],
        '/auth/password/forgot': ['POST'],
        '/auth/email/verify/resend': ['POST'],
        '/auth/me': ['GET'],
        '/auth/sessions': ['GET'],
        '/auth/sessions/some-id': ['DELETE'],
        '/auth/browser/login': ['POST'],
        '/auth/browser/session': ['GET'],
        '/.well-known/jwks.json': ['GET'],
        '/signin': ['GET'],
        '/signin/app.js': ['GET'],
        '/signin/auth-client.js': ['GET'],
        '/metrics': ['GET'],
      };
      for (const [path, allowed] of Object.entries(routes)) {
        for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
          const res = await request(t.http)[method](path);
          if (allowed.includes(method.toUpperCase())) {
            expect([path, method, res.status]).not.toEqual([path, method, 405]);
            expect([path, method, res.status]).not.toEqual([path, method, 404]);
          } else {
            expectProblem(res, 405, 'METHOD_NOT_ALLOWED');
            expect(res.headers.allow).toBe([...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', '));
          }
        }
      }
      const options = await request(t.http).options('/auth/login');
      expect(options.status).toBe(204);
      expect(options.headers.allow).toBe('POST, OPTIONS');
    });

    it('a 20 KB request header → 431 from node, not 500', async () => {
      // supertest cannot report a reply that arrives before the request is fully sent, so use node's client.
      const { port } = t.http.address() as AddressInfo;
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path: '/health/live', method: 'GET', headers: { 'X-Big': 'b'.repeat(20 * 1024) } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(431);
      // The server is fine afterwards.
      expect((await request(t.http).get('/health/live')).status).toBe(200);
    });

    it('an over-long bearer token and an over-long refresh cookie are refused cleanly', async () => {
      expectProblem(await request(t.http).get('/auth/me').set('Authorization', `Bearer ${'a'.repeat(8000)}`), 401, 'ACCESS_TOKEN_INVALID');
      expectProblem(
        await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `__Secure-refresh_token=${'a'.repeat(4000)}`),
        401,
        'REFRESH_TOKEN_INVALID',
      );
    });
  });

  describe('headers', () => {
    const securityHeaders = (res: request.Response) => {
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    };

    it('security headers on successes, errors and unknown routes', async () => {
      securityHeaders(await request(t.http).get('/health/live'));
      securityHeaders(await request(t.http).get('/auth/me'));
      securityHeaders(await request(t.http).get('/nope'));
      securityHeaders(await postJson('/auth/login', '{bad'));
      securityHeaders(await request(t.http).post('/auth/register').send({ email: uniqueEmail('hdr'), password: PASSWORD }));
    });

    it('every auth response is Cache-Control: no-store, with no ETag and no X-RateLimit-* headers', async () => {
      const email = uniqueEmail('nostore');
      const responses = [
        await request(t.http).post('/auth/register').send({ email, password: PASSWORD }),
        await request(t.http).post('/auth/login').send({ email, password: 'wrong password entirely' }),
      ];
      const loginRes = await request(t.http).post('/auth/login').send({ email, password: PASSWORD, refreshTokenDelivery: 'body' });
      responses.push(loginRes);
      const access = loginRes.body.accessToken as string;
      const refreshed = await request(t.http).post('/auth/refresh').send({ refreshToken: loginRes.body.refreshToken });
      responses.push(refreshed);
      responses.push(await request(t.http).get('/auth/me').set('Authorization', bearer(refreshed.body.accessToken)));
      responses.push(await request(t.http).get('/auth/sessions').set('Authorization', bearer(refreshed.body.accessToken)));
      responses.push(await request(t.http).post('/auth/refresh').send({ refreshToken: 'nope' }));
      responses.push(await request(t.http).post('/auth/logout').set('Authorization', bearer(access)));
      for (const res of responses) {
        expect(res.status).toBeLessThan(500);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers.etag).toBeUndefined();
        expect(Object.keys(res.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
      }
    });
  });
});
