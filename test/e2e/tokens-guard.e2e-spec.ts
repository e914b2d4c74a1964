import { createHmac, createPrivateKey, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import {
  bearer,
  createTestApp,
  decodeJwt,
  expectProblem,
  registerAndLogin,
  type LoggedIn,
  type TestApp,
} from '../support/test-app';

/**
 * The global guard and access-token verification over HTTP: protected by default, public routes
 * open (the notes feature itself: notes.e2e-spec), and every kind of forged or malformed token
 * refused with its stable code (never a 500).
 */
const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function signEs256(header: object, payload: object, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

describe('guard and access-token verification (Redis + PostgreSQL)', () => {
  let t: TestApp;
  let ourKey: KeyObject;
  let publicPem: string;
  let s: LoggedIn;
  let kid: string;
  let claims: Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestApp({});
    ourKey = createPrivateKey(readFileSync(t.config.jwt.privateKeyPath, 'utf8'));
    publicPem = readFileSync(t.config.jwt.publicKeyPath, 'utf8');
    s = await registerAndLogin(t.http, { tag: 'forgery' });
    const decoded = decodeJwt(s.accessToken);
    kid = decoded.header.kid as string;
    claims = decoded.payload;
  });
  afterAll(() => t?.close());

  const me = (authorization?: string) => {
    const req = request(t.http).get('/auth/me');
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };
  const nowSec = () => Math.floor(Date.now() / 1000);
  /** A token signed with the server's own key, from the real claims with `changes` applied. */
  const ours = (changes: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    signEs256({ alg: 'ES256', typ: 'at+jwt', kid, ...header }, { ...claims, ...changes }, ourKey);

  describe('protected by default', () => {
    /** Every route the app serves, from the Express router (so a new route is covered automatically). */
    function routes(): Array<{ method: string; path: string }> {
      const express = t.app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } };
      return express.router.stack
        // (not the catch-all of auth's known paths, which answers 405 to other methods: errors-limits suite)
        .filter((l) => l.route && !l.route.methods._all && Object.keys(l.route.methods).length < 10)
        .flatMap((l) => Object.keys(l.route!.methods).filter((m) => m !== '_all').map((method) => ({ method, path: l.route!.path })));
    }
    const PUBLIC = new Set([
      'post /auth/register',
      'post /auth/login',
      'post /auth/refresh',
      // Sibling services authenticate with client credentials (HTTP Basic), not a user's token.
      'post /auth/introspect',
      'get /.well-known/jwks.json',
      'get /metrics',
      'get /health/live',
      'get /health/ready',
      // The browser profile: its login (same-origin only, see browser-sessions.e2e-spec) and the static sign-in page.
      'post /auth/browser/login',
      'get /signin',
      'get /signin/app.js',
      'get /signin/app.css',
      'get /signin/auth-client.js',
      // Email verification and password reset (account-recovery.e2e-spec), and the page views their links open.
      'post /auth/email/verify',
      'post /auth/email/verify/resend',
      'post /auth/password/forgot',
      'post /auth/password/reset',
      'get /signin/reset',
      'get /signin/verify',
    ]);

    it('every route except the public ones answers 401 ACCESS_TOKEN_MISSING (problem+json, WWW-Authenticate) without a token', async () => {
      const all = routes();
      expect(all.length).toBeGreaterThan(PUBLIC.size);
      const seenPublic = new Set<string>();
      const seenDocs = new Set<string>();
      for (const r of all) {
        const key = `${r.method} ${r.path}`;
        if (PUBLIC.has(key)) {
          seenPublic.add(key);
          continue;
        }
        // The host's API documentation (SwaggerModule, AUTH_OPENAPI: on outside production): not auth's routes.
        if (key === 'get /openapi.json' || key.startsWith('get /docs')) {
          seenDocs.add(key);
          continue;
        }
        const path = r.path.replace(/:[A-Za-z_]+/g, 'some-id');
        const res = await (request(t.http) as unknown as Record<string, (p: string) => request.Test>)[r.method](path);
        try {
          expectProblem(res, 401, 'ACCESS_TOKEN_MISSING');
        } catch (e) {
          throw new Error(`${key}: ${(e as Error).message}`);
        }
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
      // The public set is exactly what we expect: nothing else was opened up.
      expect([...seenPublic].sort()).toEqual([...PUBLIC].sort());
      expect([...seenDocs]).toEqual(expect.arrayContaining(['get /docs', 'get /openapi.json']));
      // The brief's named examples, explicitly.
      for (const path of ['/notes', '/auth/sessions', '/auth/me']) {
        expectProblem(await request(t.http).get(path), 401, 'ACCESS_TOKEN_MISSING');
      }
      expectProblem(await request(t.http).post('/auth/logout-all'), 401, 'ACCESS_TOKEN_MISSING');
    });

    it('public routes answer without a token', async () => {
      const live = await request(t.http).get('/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ status: 'ok' });
      const ready = await request(t.http).get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ok', checks: { sessionStore: 'up', revocationStore: 'up', revocationFeed: 'up', userDatabase: 'up' } });
      const jwks = await request(t.http).get('/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      expect(jwks.headers['cache-control']).toBe('public, max-age=300');
      expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(kid);
    });

    it('a public route ignores a bad token rather than failing', async () => {
      const res = await request(t.http).get('/health/live').set('Authorization', 'Bearer garbage');
      expect(res.status).toBe(200);
    });
  });

  describe('accepted forms', () => {
    it('a genuine token works with "Bearer" and with lower-case "bearer"', async () => {
      expect((await me(`Bearer ${s.accessToken}`)).status).toBe(200);
      expect((await me(`bearer ${s.accessToken}`)).status).toBe(200);
      expect((await me(`BEARER ${s.accessToken}`)).status).toBe(200);
    });

    it('a token we signed ourselves from the real claims is accepted (so the rejections below are about the change)', async () => {
      const res = await me(bearer(ours({ jti: 'control-token' })));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ sub: s.userId, sid: s.sid });
    });

    it('a token expired less than 30 s ago is still accepted (clock tolerance)', async () => {
      expect((await me(bearer(ours({ jti: 'tolerance', iat: nowSec() - 920, exp: nowSec() - 20 })))).status).toBe(200);
    });
  });

  describe('forged and malformed tokens → 401 with the right code, never 500', () => {
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

    const invalid: Array<[string, () => string]> = [
      ['alg none, empty signature', () => `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(claims)}.`],
      ['alg none, some signature', () => `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(claims)}.${b64('sig')}`],
      ['alg "None"', () => `${b64({ alg: 'None', typ: 'at+jwt', kid })}.${b64(claims)}.${b64('sig')}`],
      [
        'HS256 with the public key (PEM) as the HMAC secret',
        () => {
          const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64(claims)}`;
          return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
        },
      ],
      [
        'ES256 with our kid but alg HS256 and the public key as secret, typ JWT',
        () => {
          const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims)}`;
          return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
        },
      ],
      ['signed by another P-256 key, with our kid', () => signEs256({ alg: 'ES256', typ: 'at+jwt', kid }, claims, otherKey)],
      ['signed by another key, unknown kid', () => signEs256({ alg: 'ES256', typ: 'at+jwt', kid: 'attacker' }, claims, otherKey)],
      ['no kid', () => signEs256({ alg: 'ES256', typ: 'at+jwt' }, claims, ourKey)],
      [
        'RS256 with our kid (algorithm confusion)',
        () => {
          const input = `${b64({ alg: 'RS256', typ: 'at+jwt', kid })}.${b64(claims)}`;
          return `${input}.${cryptoSign('sha256', Buffer.from(input), rsaKey).toString('base64url')}`;
        },
      ],
      [
        'embedded jwk header with the attacker key',
        () =>
          signEs256(
            { alg: 'ES256', typ: 'at+jwt', kid, jwk: otherKey.export({ format: 'jwk' }) },
            claims,
            otherKey,
          ),
      ],
      ['jwk header even when signed by us', () => ours({}, { jwk: { kty: 'EC' } })],
      ['jku header', () => ours({}, { jku: 'https://attacker.example/jwks.json' })],
      ['x5u header', () => ours({}, { x5u: 'https://attacker.example/cert.pem' })],
      ['crit header', () => ours({}, { crit: ['exp'] })],
      ['wrong iss', () => ours({ iss: 'someone-else' })],
      ['wrong aud', () => ours({ aud: 'another-api' })],
      ['typ JWT', () => ours({}, { typ: 'JWT' })],
      ['no typ', () => signEs256({ alg: 'ES256', kid }, claims, ourKey)],
      ['nbf in the future', () => ours({ nbf: nowSec() + 120 })],
      ['iat in the future', () => ours({ iat: nowSec() + 120, exp: nowSec() + 1000 })],
      ['no exp', () => ours({ exp: undefined })],
      ['sid missing', () => ours({ sid: undefined })],
      ['sid malformed', () => ours({ sid: 'not-a-session-id' })],
      ['sub not a string', () => ours({ sub: 42 })],
      [
        'signature bit flipped',
        () => {
          const tok = s.accessToken;
          const sig = Buffer.from(tok.split('.')[2], 'base64url');
          sig[10] ^= 1;
          return `${tok.split('.').slice(0, 2).join('.')}.${sig.toString('base64url')}`;
        },
      ],
      [
        'payload swapped under a genuine signature',
        () => {
          const [h, , sig] = s.accessToken.split('.');
          return `${h}.${b64({ ...claims, sub: 'someone-else' })}.${sig}`;
        },
      ],
      [
        'DER-encoded ES256 signature',
        () => {
          const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid })}.${b64(claims)}`;
          return `${input}.${cryptoSign('sha256', Buffer.from(input), ourKey).toString('base64url')}`;
        },
      ],
      ['payload is a JSON array', () => signEs256({ alg: 'ES256', typ: 'at+jwt', kid }, [claims], ourKey)],
      ['header is not JSON', () => `${b64('{not json')}.${b64(claims)}.${b64('x')}`],
      ['garbage', () => 'garbage'],
      ['three garbage segments', () => 'a.b.c'],
      ['our refresh token used as a bearer token', () => s.refreshToken],
      ['a 10 KB token', () => `${'A'.repeat(5000)}.${'B'.repeat(5000)}.${'C'.repeat(240)}`],
    ];

    it.each(invalid)('%s → 401 ACCESS_TOKEN_INVALID', async (_name, make) => {
      const res = await me(bearer(make()));
      expectProblem(res, 401, 'ACCESS_TOKEN_INVALID');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('an expired token we signed → 401 ACCESS_TOKEN_EXPIRED', async () => {
      const res = await me(bearer(ours({ jti: 'expired', iat: nowSec() - 1000, exp: nowSec() - 31 })));
      expectProblem(res, 401, 'ACCESS_TOKEN_EXPIRED');
    });

    it.each([
      ['"Bearer" with no token', 'Bearer'],
      ['"Bearer " with only spaces', 'Bearer    '],
      ['two spaces before the token', 'Bearer  x.y.z'],
      ['Basic credentials', `Basic ${Buffer.from('user:pass').toString('base64')}`],
      ['token without a scheme', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln'],
    ])('Authorization %s → 401 ACCESS_TOKEN_INVALID', async (_name, header) => {
      expectProblem(await me(header), 401, 'ACCESS_TOKEN_INVALID');
    });

    it('a genuine token with a space or a tab inside → 401 ACCESS_TOKEN_INVALID', async () => {
      const t = s.accessToken;
      for (const bad of [`${t.slice(0, 20)} ${t.slice(20)}`, `${t.slice(0, 20)}\t${t.slice(20)}`]) {
        expectProblem(await me(`Bearer ${bad}`), 401, 'ACCESS_TOKEN_INVALID');
      }
    });

    it('an empty Authorization header counts as missing', async () => {
      expectProblem(await me(''), 401, 'ACCESS_TOKEN_MISSING');
    });

    it('the genuine token still works after all that (no state was poisoned)', async () => {
      expect((await me(bearer(s.accessToken))).status).toBe(200);
    });
  });
});
