import { JwtService } from '@nestjs/jwt';
import { createHmac, generateKeyPairSync, KeyObject, randomBytes, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthSettings } from '../common/auth-settings';
import { AuthError, AuthErrorCode } from '../errors/auth-error.model';
import { AccessTokenService, CLOCK_TOLERANCE_SECONDS } from './access-token.service';
import { newSessionId } from './session-id.codec';
import { loadSigningKeys, SigningKeySet, VerificationKey } from './signing-keys.loader';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'api';
const CLIENT_ID = 'web-app';
const TTL = 900;

class ManualClock {
  t = 1_750_000_000_000;
  now = (): number => this.t;
}

function options(overrides: Partial<AuthSettings> = {}): AuthSettings {
  return { issuer: ISSUER, audience: AUDIENCE, clientId: CLIENT_ID, accessTokenTtl: TTL, verifiedTokenCacheSize: 100, ...overrides } as AuthSettings;
}

/** A key pair of `algorithm` generated into `dir` (private.pem, public.pem). */
function generatedKeys(dir: string, algorithm: 'ES256' | 'RS256' | 'PS256' = 'ES256'): SigningKeySet {
  const files = { privateKeyPath: join(dir, 'private.pem'), publicKeyPath: join(dir, 'public.pem') };
  return loadSigningKeys({ ...files, previousPublicKeyPaths: [], algorithm, generateIfMissing: true }).keys;
}

/** The error code a call throws, or 'OK'. */
function outcome(fn: () => unknown): AuthErrorCode | 'OK' {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (e instanceof AuthError) return e.code;
    throw e;
  }
}

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('AccessTokenService', () => {
  let dir: string;
  let keys: SigningKeySet;
  let clock: ManualClock;
  let service: AccessTokenService;
  let nowSec: number;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-token-spec-'));
    keys = generatedKeys(dir);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    clock = new ManualClock();
    nowSec = Math.floor(clock.t / 1000);
    service = new AccessTokenService(keys, options(), clock);
  });

  describe('interoperability', () => {
    it.each(['ES256', 'RS256', 'PS256'] as const)('a %s token we issue verifies with a standard JOSE library (jsonwebtoken)', (alg) => {
      const d = mkdtempSync(join(tmpdir(), 'access-token-interop-'));
      try {
        const k = generatedKeys(d, alg);
        const svc = new AccessTokenService(k, options(), clock);
        const { token } = svc.issue({ sub: 'user-1', sid: newSessionId(clock.t), authTime: nowSec });
        const decoded = verifiedByJsonwebtoken(token, d, alg);
        expect(decoded).toMatchObject({ sub: 'user-1', iss: ISSUER, aud: AUDIENCE, exp: nowSec + TTL });
        const hdr = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
        expect(hdr).toEqual({ alg, typ: 'at+jwt', kid: k.signer.kid });
        expect(svc.verify(token).sub).toBe('user-1');
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    });
  });

  /** The claims, as jsonwebtoken (@nestjs/jwt) verifies the token with the public key in `d`. */
  function verifiedByJsonwebtoken(token: string, d: string, alg: 'ES256' | 'RS256' | 'PS256'): Record<string, unknown> {
    const publicKey = readFileSync(join(d, 'public.pem'), 'utf8');
    return new JwtService().verify<Record<string, unknown>>(token, { publicKey, algorithms: [alg], issuer: ISSUER, audience: AUDIENCE, clockTimestamp: nowSec });
  }

  function header(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { alg: 'ES256', typ: 'at+jwt', kid: keys.signer.kid, ...overrides };
  }

  function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      iss: ISSUER,
      aud: AUDIENCE,
      client_id: CLIENT_ID,
      sub: 'user-1',
      sid: newSessionId(clock.t - 60_000),
      jti: randomBytes(16).toString('base64url'),
      iat: nowSec,
      exp: nowSec + TTL,
      auth_time: nowSec - 60,
      ...overrides,
    };
  }

  /** A JWS over exactly these header and payload, ES256 by default, by our own key by default. */
  function forge(
    h: Record<string, unknown> = header(),
    p: Record<string, unknown> = claims(),
    opts: { key?: KeyObject; dsaEncoding?: 'ieee-p1363' | 'der' } = {},
  ): string {
    const input = `${b64(h)}.${b64(p)}`;
    const sig = cryptoSign('sha256', Buffer.from(input), { key: opts.key ?? keys.signer.privateKey, dsaEncoding: opts.dsaEncoding ?? 'ieee-p1363' });
    return `${input}.${sig.toString('base64url')}`;
  }

  describe('issue', () => {
    it('issues an ES256 at+jwt with our kid, our client_id and only ids and times, which verifies', () => {
      const sid = newSessionId(clock.t);
      const { token, expiresIn } = service.issue({ sub: 'user-1', sid, authTime: nowSec - 5 });
      expect(expiresIn).toBe(TTL);
      const [h, p] = token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>);
      expect(h).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: keys.signer.kid });
      expect(Object.keys(p).sort()).toEqual(['aud', 'auth_time', 'client_id', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
      expect(p).toMatchObject({ iss: ISSUER, aud: AUDIENCE, client_id: CLIENT_ID, sub: 'user-1', sid, iat: nowSec, exp: nowSec + TTL, auth_time: nowSec - 5 });
      expect(service.verify(token)).toEqual({ sub: 'user-1', sid, jti: p.jti, iat: nowSec, exp: nowSec + TTL, authTime: nowSec - 5, claims: {} });
    });

    it("carries the host's claims next to ours, which a claim of the same name cannot replace", () => {
      const sid = newSessionId(clock.t);
      const token = service.issue({ sub: 'user-1', sid, authTime: nowSec, claims: { roles: ['admin'], tenant: 'acme', sub: 'mallory' } }).token;
      const p = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
      expect(p).toMatchObject({ sub: 'user-1', roles: ['admin'], tenant: 'acme' });
      expect(service.verify(token)).toMatchObject({ sub: 'user-1', claims: { roles: ['admin'], tenant: 'acme' } });
    });

    it('gives every token its own jti', () => {
      const sid = newSessionId(clock.t);
      const a = service.verify(service.issue({ sub: 'u', sid, authTime: nowSec }).token);
      const b = service.verify(service.issue({ sub: 'u', sid, authTime: nowSec }).token);
      expect(a.jti).not.toBe(b.jti);
    });
  });

  describe('verify: what it accepts', () => {
    it('accepts a well-formed token of ours (the baseline every forgery below departs from)', () => {
      expect(outcome(() => service.verify(forge()))).toBe('OK');
    });

    it('accepts typ application/at+jwt and an audience list that contains ours', () => {
      expect(outcome(() => service.verify(forge(header({ typ: 'application/at+jwt' }))))).toBe('OK');
      expect(outcome(() => service.verify(forge(header(), claims({ aud: ['other', AUDIENCE] }))))).toBe('OK');
    });

    it('falls back to iat when auth_time is absent', () => {
      const p = claims();
      delete p.auth_time;
      expect(service.verify(forge(header(), p)).authTime).toBe(nowSec);
    });
  });

  describe('verify: forgeries and bad tokens are ACCESS_TOKEN_INVALID', () => {
    const invalid = (token: string) => expect(outcome(() => service.verify(token))).toBe('ACCESS_TOKEN_INVALID');

    it('alg none, with or without a signature', () => {
      const input = `${b64(header({ alg: 'none' }))}.${b64(claims())}`;
      invalid(`${input}.`);
      invalid(`${input}.AAAA`);
      // The real signature, with the header claiming none.
      const genuine = forge();
      invalid(`${b64(header({ alg: 'none' }))}.${genuine.split('.')[1]}.${genuine.split('.')[2]}`);
    });

    it('HS256 signed with our public key as the HMAC secret (algorithm confusion)', () => {
      const publicPem = readFileSync(join(dir, 'public.pem'));
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const input = `${b64(header({ alg }))}.${b64(claims())}`;
        const mac = createHmac(`sha${alg.slice(2)}`, publicPem).update(input).digest('base64url');
        invalid(`${input}.${mac}`);
      }
    });

    it('an allowed algorithm that is not the key\u2019s (RS256 header on our EC kid, signed with an RSA key)', () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const input = `${b64(header({ alg: 'RS256' }))}.${b64(claims())}`;
      invalid(`${input}.${cryptoSign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`);
    });

    it('signed by another EC key that claims our kid', () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      invalid(forge(header(), claims(), { key: other.privateKey }));
    });

    it('an unknown kid, or none', () => {
      invalid(forge(header({ kid: 'not-our-kid' })));
      const h = header();
      delete h.kid;
      invalid(forge(h));
      invalid(forge(header({ kid: 42 })));
    });

    it.each(['jwk', 'jku', 'x5u', 'x5c', 'crit'])('a %s header, even on a token our key signed', (name) => {
      const ours = keys.verifiers.get(keys.signer.kid) as VerificationKey;
      const values: Record<string, unknown> = {
        jwk: ours.jwk,
        jku: 'https://attacker.example/jwks.json',
        x5u: 'https://attacker.example/cert.pem',
        x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'],
        crit: ['exp'],
      };
      invalid(forge(header({ [name]: values[name] })));
    });

    it('a typ other than at+jwt (JWT, missing, refresh)', () => {
      invalid(forge(header({ typ: 'JWT' })));
      invalid(forge(header({ typ: 'refresh+jwt' })));
      const h = header();
      delete h.typ;
      invalid(forge(h));
    });

    it('a wrong issuer or audience', () => {
      invalid(forge(header(), claims({ iss: 'https://evil.example' })));
      invalid(forge(header(), claims({ iss: undefined })));
      invalid(forge(header(), claims({ aud: 'other-api' })));
      invalid(forge(header(), claims({ aud: ['other-api'] })));
      invalid(forge(header(), claims({ aud: undefined })));
    });

    it('nbf beyond the clock tolerance; within it is accepted', () => {
      invalid(forge(header(), claims({ nbf: nowSec + CLOCK_TOLERANCE_SECONDS + 1 })));
      invalid(forge(header(), claims({ nbf: 'now' })));
      expect(outcome(() => service.verify(forge(header(), claims({ nbf: nowSec + CLOCK_TOLERANCE_SECONDS - 1 }))))).toBe('OK');
    });

    it('iat beyond the clock tolerance in the future', () => {
      invalid(forge(header(), claims({ iat: nowSec + CLOCK_TOLERANCE_SECONDS + 1 })));
    });

    it('a DER-encoded ECDSA signature instead of raw r||s', () => {
      invalid(forge(header(), claims(), { dsaEncoding: 'der' }));
    });

    it('a tampered payload or header under the original signature', () => {
      const [h, , s] = forge().split('.');
      invalid(`${h}.${b64(claims({ sub: 'admin' }))}.${s}`);
      const [, p2, s2] = forge().split('.');
      invalid(`${b64(header({ typ: 'application/at+jwt' }))}.${p2}.${s2}`);
      // One flipped bit in the signature.
      const [h3, p3, s3] = forge().split('.');
      const sig = Buffer.from(s3, 'base64url');
      sig[10] ^= 1;
      invalid(`${h3}.${p3}.${sig.toString('base64url')}`);
    });

    it('an overlong token, even one we signed', () => {
      const padded = forge(header(), claims({ pad: 'x'.repeat(4096) }));
      expect(padded.length).toBeGreaterThan(4096);
      invalid(padded);
      invalid(forge() + 'A'.repeat(5000));
    });

    it('missing, mistyped or malformed claims', () => {
      invalid(forge(header(), claims({ exp: undefined })));
      invalid(forge(header(), claims({ exp: String(nowSec + TTL) })));
      invalid(forge(header(), claims({ iat: undefined })));
      invalid(forge(header(), claims({ sub: '' })));
      invalid(forge(header(), claims({ sub: 7 })));
      invalid(forge(header(), claims({ sub: 'u'.repeat(129) })));
      invalid(forge(header(), claims({ sid: 'not-a-session-id' })));
      invalid(forge(header(), claims({ jti: undefined })));
      // RFC 9068 section 2.2 makes client_id required in an at+jwt.
      invalid(forge(header(), claims({ client_id: undefined })));
      invalid(forge(header(), claims({ client_id: '' })));
      invalid(forge(header(), claims({ client_id: 42 })));
      invalid(forge(header(), claims({ client_id: 'c'.repeat(129) })));
      invalid(forge(header(), claims({ auth_time: 'yesterday' })));
    });

    it('text that is not a JWS at all', () => {
      for (const t of ['', 'abc', 'a.b', 'a.b.c.d', 'ey.ey.', '..', 'e30.e30.e30']) invalid(t);
      invalid(`${b64('not json')}.${b64(claims())}.AAAA`);
      invalid(`${b64([1, 2])}.${b64(claims())}.AAAA`);
      const input = `${b64(header())}.${b64('"a string"')}`;
      invalid(`${input}.${cryptoSign('sha256', Buffer.from(input), { key: keys.signer.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`);
    });
  });

  describe('verify: expiry with the 30 s leeway', () => {
    it('accepts up to exp + 30 s, and answers ACCESS_TOKEN_EXPIRED after', () => {
      const exp = nowSec + 60;
      const token = forge(header(), claims({ exp }));
      clock.t = (exp + CLOCK_TOLERANCE_SECONDS) * 1000;
      expect(outcome(() => new AccessTokenService(keys, options(), clock).verify(token))).toBe('OK');
      clock.t += 1;
      expect(outcome(() => new AccessTokenService(keys, options(), clock).verify(token))).toBe('ACCESS_TOKEN_EXPIRED');
    });

    it('an expired forgery is still INVALID, not EXPIRED (no oracle for bad signatures)', () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = forge(header(), claims({ exp: nowSec - 3600 }), { key: other.privateKey });
      expect(outcome(() => service.verify(token))).toBe('ACCESS_TOKEN_INVALID');
    });
  });

  describe('the verified-token cache', () => {
    /** A key set whose verifiers the test can take away, to tell a cache hit from a verification. */
    function removableKeys(): { keys: SigningKeySet; drop(): void } {
      const verifiers = new Map(keys.verifiers);
      return { keys: { ...keys, verifiers }, drop: () => verifiers.clear() };
    }

    it('answers a repeated token from the cache: same claims, no verification', () => {
      const k = removableKeys();
      const svc = new AccessTokenService(k.keys, options(), clock);
      const token = forge();
      const first = svc.verify(token);
      k.drop();
      expect(outcome(() => svc.verify(forge()))).toBe('ACCESS_TOKEN_INVALID'); // nothing verifies any more...
      expect(svc.verify(token)).toBe(first); // ...but the cached token is answered from memory
    });

    it('answers only the exact token: one with the same signature but another payload is verified (and refused)', () => {
      const token = forge();
      expect(outcome(() => service.verify(token))).toBe('OK');
      const [h, p, sig] = token.split('.');
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
      const altered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'someone-else' })).toString('base64url')}.${sig}`;
      expect(outcome(() => service.verify(altered))).toBe('ACCESS_TOKEN_INVALID');
      expect(service.verify(token).sub).toBe(payload.sub);
    });

    it('never outlives the token: past exp + 30 s a cached token is ACCESS_TOKEN_EXPIRED', () => {
      const exp = nowSec + 60;
      const token = forge(header(), claims({ exp }));
      expect(outcome(() => service.verify(token))).toBe('OK');
      clock.t = (exp + CLOCK_TOLERANCE_SECONDS) * 1000;
      expect(outcome(() => service.verify(token))).toBe('OK');
      clock.t += 1;
      expect(outcome(() => service.verify(token))).toBe('ACCESS_TOKEN_EXPIRED');
      expect(outcome(() => service.verify(token))).toBe('ACCESS_TOKEN_EXPIRED');
    });

    it('is bounded: beyond verifiedTokenCacheSize the oldest entry is evicted', () => {
      const k = removableKeys();
      const svc = new AccessTokenService(k.keys, options({ verifiedTokenCacheSize: 2 }), clock);
      const [t1, t2, t3] = [forge(), forge(), forge()];
      for (const t of [t1, t2, t3]) svc.verify(t);
      k.drop();
      expect(outcome(() => svc.verify(t1))).toBe('ACCESS_TOKEN_INVALID'); // evicted: verified again, and fails
      expect(outcome(() => svc.verify(t2))).toBe('OK');
      expect(outcome(() => svc.verify(t3))).toBe('OK');
    });

    it('is off with verifiedTokenCacheSize 0', () => {
      const k = removableKeys();
      const svc = new AccessTokenService(k.keys, options({ verifiedTokenCacheSize: 0 }), clock);
      const token = forge();
      svc.verify(token);
      k.drop();
      expect(outcome(() => svc.verify(token))).toBe('ACCESS_TOKEN_INVALID');
    });

    it('does not remember rejections: a token is judged anew each time', () => {
      const token = forge(header(), claims({ nbf: nowSec + 120 }));
      expect(outcome(() => service.verify(token))).toBe('ACCESS_TOKEN_INVALID');
      clock.t += 120_000;
      expect(outcome(() => service.verify(token))).toBe('OK');
    });
  });

  describe('signing-key rotation', () => {
    it('tokens signed by a retired key verify while its public key is listed, and not after', () => {
      const next = join(dir, 'next');
      const load = (previous: string[]) =>
        loadSigningKeys({
          privateKeyPath: join(next, 'private.pem'),
          publicKeyPath: join(next, 'public.pem'),
          previousPublicKeyPaths: previous,
          algorithm: 'ES256',
          generateIfMissing: true,
        }).keys;
      const oldToken = service.issue({ sub: 'user-1', sid: newSessionId(clock.t), authTime: nowSec }).token;
      const rotated = load([join(dir, 'public.pem')]);
      expect(rotated.signer.kid).not.toBe(keys.signer.kid);
      const svc = new AccessTokenService(rotated, options(), clock);
      expect(outcome(() => svc.verify(oldToken))).toBe('OK');
      const newToken = svc.issue({ sub: 'user-1', sid: newSessionId(clock.t), authTime: nowSec }).token;
      expect(JSON.parse(Buffer.from(newToken.split('.')[0], 'base64url').toString()).kid).toBe(rotated.signer.kid);
      expect(outcome(() => svc.verify(newToken))).toBe('OK');

      const retiredForGood = new AccessTokenService(load([]), options(), clock);
      expect(outcome(() => retiredForGood.verify(oldToken))).toBe('ACCESS_TOKEN_INVALID');
    });
  });
});
