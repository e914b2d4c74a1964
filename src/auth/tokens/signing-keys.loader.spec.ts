import { createHash, createPublicKey, generateKeyPairSync, KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwks, loadSigningKeys, SigningAlgorithm, SigningKeyError, SigningKeyOptions } from './signing-keys.loader';

/** RFC 7638 section 3.1: the example RSA key and its thumbprint. */
const RFC7638_N =
  '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMst' +
  'n64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n' +
  '91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

describe('loadSigningKeys', () => {
  let dir: string;
  let n = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signing-keys-spec-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Fresh, not yet existing paths. */
  function paths(): { privateKeyPath: string; publicKeyPath: string } {
    const sub = join(dir, `k${n++}`);
    return { privateKeyPath: join(sub, 'private.pem'), publicKeyPath: join(sub, 'public.pem') };
  }

  function opts(overrides: Partial<SigningKeyOptions> = {}): SigningKeyOptions {
    return { ...paths(), previousPublicKeyPaths: [], algorithm: 'ES256', generateIfMissing: true, ...overrides };
  }

  /** Writes a key pair (PEM) and returns the paths. */
  function writePair(pair: { privateKey: KeyObject; publicKey: KeyObject }): { privateKeyPath: string; publicKeyPath: string } {
    const p = paths();
    mkdirSync(join(p.privateKeyPath, '..'), { recursive: true });
    writeFileSync(p.privateKeyPath, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(p.publicKeyPath, pair.publicKey.export({ format: 'pem', type: 'spki' }));
    return p;
  }

  function writePublic(key: KeyObject): string {
    const path = join(dir, `pub${n++}.pem`);
    writeFileSync(path, key.export({ format: 'pem', type: 'spki' }));
    return path;
  }

  const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = (modulusLength = 2048) => generateKeyPairSync('rsa', { modulusLength });

  describe('the kid', () => {
    it('is the RFC 7638 thumbprint (the RFC\u2019s own example key)', () => {
      const key = createPublicKey({ key: { kty: 'RSA', n: RFC7638_N, e: 'AQAB' }, format: 'jwk' });
      const current = writePair(rsa());
      const { keys } = loadSigningKeys({ ...current, previousPublicKeyPaths: [writePublic(key)], algorithm: 'RS256', generateIfMissing: false });
      expect(keys.verifiers.get(RFC7638_THUMBPRINT)?.jwk).toMatchObject({ kty: 'RSA', n: RFC7638_N, e: 'AQAB', kid: RFC7638_THUMBPRINT });
    });

    it('is the RFC 7638 thumbprint of an EC key ({"crv","kty","x","y"} in that order)', () => {
      const { keys } = loadSigningKeys(opts());
      const jwk = keys.verifiers.get(keys.signer.kid)!.jwk;
      const canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
      expect(keys.signer.kid).toBe(createHash('sha256').update(canonical).digest('base64url'));
    });

    it('is stable across loads of the same files', () => {
      const o = opts();
      expect(loadSigningKeys(o).keys.signer.kid).toBe(loadSigningKeys({ ...o, generateIfMissing: false }).keys.signer.kid);
    });
  });

  describe('generation (development)', () => {
    it('creates a P-256 pair when missing, private key readable by the owner only', () => {
      const o = opts();
      const { keys, generated } = loadSigningKeys(o);
      expect(generated).toBe(true);
      expect(keys.signer.alg).toBe('ES256');
      expect(keys.signer.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      expect(statSync(o.privateKeyPath).mode & 0o077).toBe(0);
      expect(loadSigningKeys(o).generated).toBe(false);
    });

    it('creates an RSA pair for RS256', () => {
      const { keys } = loadSigningKeys(opts({ algorithm: 'RS256' }));
      expect(keys.signer.alg).toBe('RS256');
      expect(keys.signer.privateKey.asymmetricKeyType).toBe('rsa');
    });

    it('refuses to create anything when generation is off', () => {
      const o = opts({ generateIfMissing: false });
      expect(() => loadSigningKeys(o)).toThrow(SigningKeyError);
      expect(existsSync(o.privateKeyPath)).toBe(false);
    });
  });

  describe('refusals', () => {
    it('a public key that is not the private key\u2019s half', () => {
      const a = writePair(ec());
      const b = writePair(ec());
      expect(() =>
        loadSigningKeys({ privateKeyPath: a.privateKeyPath, publicKeyPath: b.publicKeyPath, previousPublicKeyPaths: [], algorithm: 'ES256', generateIfMissing: false }),
      ).toThrow(SigningKeyError);
    });

    it.each<[string, () => { privateKey: KeyObject; publicKey: KeyObject }, SigningAlgorithm]>([
      ['EC keys with JWT_ALGORITHM=RS256', ec, 'RS256'],
      ['EC keys with JWT_ALGORITHM=PS256', ec, 'PS256'],
      ['RSA keys with JWT_ALGORITHM=ES256', () => rsa(), 'ES256'],
    ])('%s', (_what, make, algorithm) => {
      const p = writePair(make());
      expect(() => loadSigningKeys({ ...p, previousPublicKeyPaths: [], algorithm, generateIfMissing: false })).toThrow(SigningKeyError);
    });

    it('an EC key on another curve, and an RSA key under 2048 bits', () => {
      const p384 = writePair(generateKeyPairSync('ec', { namedCurve: 'P-384' }));
      expect(() => loadSigningKeys({ ...p384, previousPublicKeyPaths: [], algorithm: 'ES256', generateIfMissing: false })).toThrow(SigningKeyError);
      const small = writePair(rsa(1024));
      expect(() => loadSigningKeys({ ...small, previousPublicKeyPaths: [], algorithm: 'RS256', generateIfMissing: false })).toThrow(SigningKeyError);
    });

    it('an Ed25519 key', () => {
      const p = writePair(generateKeyPairSync('ed25519'));
      expect(() => loadSigningKeys({ ...p, previousPublicKeyPaths: [], algorithm: 'ES256', generateIfMissing: false })).toThrow(SigningKeyError);
    });

    it('files that are not PEM keys, and a previous or next key file that is not a key', () => {
      const p = paths();
      mkdirSync(join(p.privateKeyPath, '..'), { recursive: true });
      writeFileSync(p.privateKeyPath, 'not a key');
      writeFileSync(p.publicKeyPath, 'not a key');
      expect(() => loadSigningKeys({ ...p, previousPublicKeyPaths: [], algorithm: 'ES256', generateIfMissing: false })).toThrow(SigningKeyError);

      const good = opts();
      loadSigningKeys(good);
      const junk = join(dir, 'junk.pem');
      writeFileSync(junk, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n');
      expect(() => loadSigningKeys({ ...good, previousPublicKeyPaths: [junk] })).toThrow(/JWT_PREVIOUS_PUBLIC_KEY_PATHS/);
      expect(() => loadSigningKeys({ ...good, nextPublicKeyPath: junk })).toThrow(/JWT_NEXT_PUBLIC_KEY_PATH/);
    });
  });

  describe('previous public keys', () => {
    it('are verifiers (not signers), served in the JWKS, and verify what their private key signed', () => {
      const old = ec();
      const current = opts();
      const { keys } = loadSigningKeys({ ...current, previousPublicKeyPaths: [writePublic(old.publicKey)] });
      expect(keys.verifiers.size).toBe(2);
      const retired = [...keys.verifiers.values()].find((v) => v.kid !== keys.signer.kid)!;
      expect(retired.alg).toBe('ES256');
      const data = Buffer.from('header.payload');
      const sig = cryptoSign('sha256', data, { key: old.privateKey, dsaEncoding: 'ieee-p1363' });
      expect(cryptoVerify('sha256', data, { key: retired.key, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);

      const served = jwks(keys).keys;
      expect(served.map((k) => k.kid).sort()).toEqual([...keys.verifiers.keys()].sort());
      for (const k of served) {
        expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256' });
        expect(k).not.toHaveProperty('d'); // never the private part
      }
    });

    it('listing the current key again does not duplicate it', () => {
      const current = opts();
      loadSigningKeys(current);
      const { keys } = loadSigningKeys({ ...current, previousPublicKeyPaths: [current.publicKeyPath] });
      expect(keys.verifiers.size).toBe(1);
    });
  });

  describe('the next (staged) key and roles', () => {
    it('a next key verifies and is served, after the signer and before retired keys, and never signs', () => {
      const next = ec();
      const retired = ec();
      const current = opts();
      const { keys } = loadSigningKeys({ ...current, nextPublicKeyPath: writePublic(next.publicKey), previousPublicKeyPaths: [writePublic(retired.publicKey)] });
      expect([...keys.verifiers.values()].map((v) => v.role)).toEqual(['signing', 'next', 'retired']);
      const staged = [...keys.verifiers.values()].find((v) => v.role === 'next')!;
      expect(keys.signer.kid).not.toBe(staged.kid);
      expect(jwks(keys).keys.map((k) => k.kid)).toEqual([...keys.verifiers.keys()]);
      const data = Buffer.from('header.payload');
      const sig = cryptoSign('sha256', data, { key: next.privateKey, dsaEncoding: 'ieee-p1363' });
      expect(cryptoVerify('sha256', data, { key: staged.key, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
    });

    it('verify-only key files that do not exist are no keys (the keys script creates and removes them)', () => {
      const current = opts();
      const { keys } = loadSigningKeys({ ...current, nextPublicKeyPath: join(dir, 'absent-next.pem'), previousPublicKeyPaths: [join(dir, 'absent.pem')] });
      expect([...keys.verifiers.values()].map((v) => v.role)).toEqual(['signing']);
    });
  });
});
