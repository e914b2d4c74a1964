import { createHash, createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMacSecret, MacSecret } from './mac-secret.loader';
import { RefreshTokenCodec } from './refresh-token.codec';
import { newSessionId } from './session-id.codec';
import { loadSigningKeys } from './signing-keys.loader';
import { generateKeys, KeyFiles, KeyRotationError, listKeys, nextPrivateKeyPath, promoteNextKey, stageNextKey } from './signing-keys.rotation';

const TTL = 900;
const SECOND = 1000;

describe('signing-key rotation (the keys script)', () => {
  let root: string;
  let n = 0;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'key-rotation-spec-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** The server's default layout in a fresh key directory. */
  function layout(): KeyFiles {
    const dir = join(root, `k${n++}`);
    return {
      privateKeyPath: join(dir, 'private.pem'),
      publicKeyPath: join(dir, 'public.pem'),
      nextPublicKeyPath: join(dir, 'next-public.pem'),
      previousPublicKeyPaths: [join(dir, 'previous-public.pem')],
      macSecretPath: join(dir, 'mac-secret'),
      algorithm: 'ES256',
      accessTokenTtl: TTL,
    };
  }

  /** What a server booted on these files would load. */
  function served(files: KeyFiles): Array<[string, string]> {
    const { keys } = loadSigningKeys({ ...files, generateIfMissing: false });
    return [...keys.verifiers.values()].map((v) => [v.role, v.kid]);
  }

  const kidOf = (files: KeyFiles): string => loadSigningKeys({ ...files, generateIfMissing: false }).keys.signer.kid;

  describe('generate', () => {
    it('creates the signing pair and the MAC secret when missing, and never overwrites either', () => {
      const files = layout();
      expect(generateKeys(files).join('\n')).toMatch(/created the signing key pair[\s\S]*created the MAC secret/);
      const kid = kidOf(files);
      const secret = readFileSync(files.macSecretPath, 'utf8');
      expect(generateKeys(files).join('\n')).toMatch(/signing key pair present[\s\S]*MAC secret present/);
      expect(kidOf(files)).toBe(kid);
      expect(readFileSync(files.macSecretPath, 'utf8')).toBe(secret);
      expect(served(files)).toEqual([['signing', kid]]);
    });

    it('refuses to complete half a pair', () => {
      const files = layout();
      generateKeys(files);
      rmSync(files.publicKeyPath);
      const privateBefore = readFileSync(files.privateKeyPath, 'utf8');
      expect(() => generateKeys(files)).toThrow(KeyRotationError);
      expect(readFileSync(files.privateKeyPath, 'utf8')).toBe(privateBefore);
    });

    it('--from-signing-key: the first MAC secret is the one the previous build derived from the signing key, so its tokens stay genuine', () => {
      const files = layout();
      generateKeys({ ...files, macSecretPath: join(root, `unused-${n++}`) });
      // The previous build: MAC seed = SHA-256("auth-domain/mac-seed/v1\0" || PKCS#8 DER of the signing key), keys by HKDF from it.
      const der = createPrivateKey(readFileSync(files.privateKeyPath, 'utf8')).export({ format: 'der', type: 'pkcs8' });
      const previousSeed = createHash('sha256').update('auth-domain/mac-seed/v1\0').update(der).digest();
      const issuedBefore = new RefreshTokenCodec(MacSecret.fromBytes(previousSeed)).create('user-1', newSessionId(Date.now())).token;

      expect(generateKeys(files, { fromSigningKey: true }).join('\n')).toContain('from the signing key');
      const secret = loadMacSecret({ path: files.macSecretPath, generateIfMissing: false }).secret;
      expect(new RefreshTokenCodec(secret).parse(issuedBefore)?.genuine).toBe(true);
    });

    it('--from-signing-key without a signing key is refused', () => {
      const files = layout();
      expect(() => generateKeys(files, { fromSigningKey: true })).toThrow(KeyRotationError);
      expect(existsSync(files.macSecretPath)).toBe(false);
    });
  });

  describe('rotate, then rotate --promote', () => {
    it('stage: a new key verifies and is served, the current one still signs', () => {
      const files = layout();
      generateKeys(files);
      const current = kidOf(files);
      const { kid } = stageNextKey(files);
      expect(kid).not.toBe(current);
      expect(kidOf(files)).toBe(current);
      expect(served(files)).toEqual([
        ['signing', current],
        ['next', kid],
      ]);
      expect(statSync(nextPrivateKeyPath(files)).mode & 0o077).toBe(0);
      expect(() => stageNextKey(files)).toThrow(/already staged/);
    });

    it('promote: the staged key signs, the old one retires and still verifies, the old private key is gone; the MAC secret is untouched', () => {
      const files = layout();
      generateKeys(files);
      const macSecret = readFileSync(files.macSecretPath, 'utf8');
      const old = kidOf(files);
      const oldPrivate = readFileSync(files.privateKeyPath, 'utf8');
      const { kid } = stageNextKey(files);

      const result = promoteNextKey(files, Date.now() + 301 * SECOND);
      expect(result).toEqual({ kid, retiredKid: old, retiredPath: files.previousPublicKeyPaths[0] });
      expect(served(files)).toEqual([
        ['signing', kid],
        ['retired', old],
      ]);
      expect(existsSync(files.nextPublicKeyPath)).toBe(false);
      expect(existsSync(nextPrivateKeyPath(files))).toBe(false);
      expect(readFileSync(files.privateKeyPath, 'utf8')).not.toBe(oldPrivate);
      expect(statSync(files.privateKeyPath).mode & 0o077).toBe(0);
      expect(readFileSync(files.macSecretPath, 'utf8')).toBe(macSecret);
    });

    it('promote refuses before the JWKS cache period (300 s) has passed since staging, unless forced', () => {
      const files = layout();
      generateKeys(files);
      const old = kidOf(files);
      const staged = statSync((stageNextKey(files), files.nextPublicKeyPath)).mtimeMs;
      expect(() => promoteNextKey(files, staged + 299 * SECOND)).toThrow(/staged 299 s ago/);
      expect(kidOf(files)).toBe(old);
      expect(promoteNextKey(files, staged + 299 * SECOND, { force: true }).retiredKid).toBe(old);
    });

    it('the next promotion refuses to drop a retired key whose tokens may still be live (ACCESS_TOKEN_TTL + 30 s)', () => {
      const files = layout();
      generateKeys(files);
      const first = kidOf(files);
      stageNextKey(files);
      promoteNextKey(files, Date.now() + 301 * SECOND);
      const retiredAt = statSync(files.previousPublicKeyPaths[0]).mtimeMs;
      const second = kidOf(files);
      stageNextKey(files);

      expect(() => promoteNextKey(files, retiredAt + (TTL + 29) * SECOND)).toThrow(/still verifies tokens/);
      expect(served(files).map(([role]) => role)).toEqual(['signing', 'next', 'retired']);
      expect(served(files)[2]).toEqual(['retired', first]);

      promoteNextKey(files, retiredAt + (TTL + 31) * SECOND);
      expect(served(files)[1]).toEqual(['retired', second]);
    });

    it('promote without a staged key, or with no previous-key path to retire to, is refused', () => {
      const files = layout();
      generateKeys(files);
      expect(() => promoteNextKey(files)).toThrow(/no staged key/);
      stageNextKey(files);
      expect(() => promoteNextKey({ ...files, previousPublicKeyPaths: [] }, Date.now() + 301 * SECOND)).toThrow(/JWT_PREVIOUS_PUBLIC_KEY_PATHS is empty/);
    });

    it('a staged public key that is not the staged private key\u2019s half is refused', () => {
      const files = layout();
      generateKeys(files);
      stageNextKey(files);
      writeFileSync(files.nextPublicKeyPath, readFileSync(files.publicKeyPath));
      expect(() => promoteNextKey(files, Date.now() + 301 * SECOND)).toThrow(/the staged key: JWT_PUBLIC_KEY_PATH is not the public half/);
    });
  });

  it('list: every file with its role and kid, the retired key with the end of its tokens, the MAC secret without its content', () => {
    const files = layout();
    generateKeys(files);
    const old = kidOf(files);
    const { kid } = stageNextKey(files);
    promoteNextKey(files, Date.now() + 301 * SECOND);
    const retiredAt = statSync(files.previousPublicKeyPaths[0]).mtimeMs;

    const listed = listKeys(files);
    expect(listed.map((k) => [k.role, k.kid, k.path])).toEqual([
      ['signing', kid, files.publicKeyPath],
      ['next', null, files.nextPublicKeyPath],
      ['retired', old, files.previousPublicKeyPaths[0]],
      ['mac-secret', null, files.macSecretPath],
    ]);
    expect(listed[2].verifiesUntil?.getTime()).toBe(Math.floor(retiredAt + (TTL + 30) * SECOND));
    expect(listed[3].since).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(readFileSync(files.macSecretPath, 'utf8').trim());
  });
});
