import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type SigningAlgorithm = 'ES256' | 'RS256' | 'PS256';
export const ALLOWED_ALGORITHMS: ReadonlySet<string> = new Set<SigningAlgorithm>(['ES256', 'RS256', 'PS256']);

/**
 * What a key is for. `signing`: it signs (and verifies). `next`: staged by a rotation, published
 * in the JWKS and verifying, signing nothing until it is promoted. `retired`: it signed before the
 * last rotation and verifies until its tokens have expired.
 */
export type KeyRole = 'signing' | 'next' | 'retired';

export interface VerificationKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly key: KeyObject;
  readonly jwk: Readonly<Record<string, string>>;
  readonly role: KeyRole;
  /** The public key file it was read from. */
  readonly path: string;
}

export interface SigningKeySet {
  /** The newest key: it signs. */
  readonly signer: { readonly kid: string; readonly alg: SigningAlgorithm; readonly privateKey: KeyObject };
  /** Every key that verifies, by kid: the signer's first, then the next one, then retired ones. */
  readonly verifiers: ReadonlyMap<string, VerificationKey>;
}

export interface SigningKeyOptions {
  privateKeyPath: string;
  publicKeyPath: string;
  /** The staged next key (verify-only until promoted). A path whose file does not exist: none. */
  nextPublicKeyPath?: string;
  /** Retired keys (verify-only). A path whose file does not exist is skipped. */
  previousPublicKeyPaths: readonly string[];
  algorithm: SigningAlgorithm;
  /** Create the pair when missing (development only). */
  generateIfMissing: boolean;
}

export class SigningKeyError extends Error {}

/** RFC 7638 thumbprint: the kid is derived from the key, so it is stable and unforgeable. */
function thumbprint(jwk: Record<string, string>): string {
  const members = jwk.kty === 'EC' ? ['crv', 'kty', 'x', 'y'] : ['e', 'kty', 'n'];
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

function algorithmFor(key: KeyObject, preferred: SigningAlgorithm, path: string): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ec') {
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new SigningKeyError(`${path}: EC keys must use P-256 for ES256`);
    return 'ES256';
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new SigningKeyError(`${path}: RSA keys must have at least 2048 bits`);
    return preferred === 'ES256' ? 'RS256' : preferred;
  }
  throw new SigningKeyError(`${path}: unsupported key type ${key.asymmetricKeyType}`);
}

function toVerificationKey(key: KeyObject, alg: SigningAlgorithm, role: KeyRole, path: string): VerificationKey {
  const exported = key.export({ format: 'jwk' }) as Record<string, string>;
  const kid = thumbprint(exported);
  const jwk = { ...exported, kid, alg, use: 'sig' };
  return { kid, alg, key, jwk, role, path };
}

/** Writes a new key pair of `algorithm` (P-256, or RSA 2048) to the two paths: the private key readable by the owner only. */
export function generatePair(paths: { privateKeyPath: string; publicKeyPath: string; algorithm: SigningAlgorithm }): void {
  const { privateKey, publicKey } =
    paths.algorithm === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  mkdirSync(dirname(paths.privateKeyPath), { recursive: true, mode: 0o700 });
  mkdirSync(dirname(paths.publicKeyPath), { recursive: true, mode: 0o700 });
  writeFileSync(paths.privateKeyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  writeFileSync(paths.publicKeyPath, publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new SigningKeyError(`cannot read the ${what} at ${path}`);
  }
}

/** Loads (or, in development, creates) the key set. Keys are parsed once into KeyObjects. */
export function loadSigningKeys(opts: SigningKeyOptions): { keys: SigningKeySet; generated: boolean } {
  let generated = false;
  if (!existsSync(opts.privateKeyPath) || !existsSync(opts.publicKeyPath)) {
    if (!opts.generateIfMissing) {
      throw new SigningKeyError(
        `signing key files are missing (JWT_PRIVATE_KEY_PATH=${opts.privateKeyPath}, JWT_PUBLIC_KEY_PATH=${opts.publicKeyPath}); create them with \`npm run keys -- generate\``,
      );
    }
    generatePair(opts);
    generated = true;
  }
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  try {
    privateKey = createPrivateKey(readPem(opts.privateKeyPath, 'private key'));
    publicKey = createPublicKey(readPem(opts.publicKeyPath, 'public key'));
  } catch (e) {
    if (e instanceof SigningKeyError) throw e;
    throw new SigningKeyError(`JWT_PRIVATE_KEY_PATH/JWT_PUBLIC_KEY_PATH do not hold PEM keys`);
  }
  const alg = algorithmFor(privateKey, opts.algorithm, opts.privateKeyPath);
  if (alg !== opts.algorithm) {
    throw new SigningKeyError(`JWT_ALGORITHM=${opts.algorithm} does not match the key at ${opts.privateKeyPath} (${privateKey.asymmetricKeyType})`);
  }
  const current = toVerificationKey(publicKey, alg, 'signing', opts.publicKeyPath);
  const fromPrivate = toVerificationKey(createPublicKey(privateKey), alg, 'signing', opts.privateKeyPath);
  if (fromPrivate.kid !== current.kid) {
    throw new SigningKeyError('JWT_PUBLIC_KEY_PATH is not the public half of JWT_PRIVATE_KEY_PATH');
  }
  const verifiers = new Map<string, VerificationKey>([[current.kid, current]]);
  // Verify-only keys come and go with rotations (keys script): a listed file that is absent is no key.
  const verifyOnly: Array<{ path: string; role: KeyRole; variable: string }> = [];
  if (opts.nextPublicKeyPath) verifyOnly.push({ path: opts.nextPublicKeyPath, role: 'next', variable: 'JWT_NEXT_PUBLIC_KEY_PATH' });
  for (const path of opts.previousPublicKeyPaths) verifyOnly.push({ path, role: 'retired', variable: 'JWT_PREVIOUS_PUBLIC_KEY_PATHS' });
  for (const { path, role, variable } of verifyOnly) {
    if (!existsSync(path)) continue;
    const vk = readPublicKey(path, opts.algorithm, role, variable);
    if (!verifiers.has(vk.kid)) verifiers.set(vk.kid, vk);
  }
  return { keys: { signer: { kid: current.kid, alg, privateKey }, verifiers }, generated };
}

/** A public key file as a verification key; throws SigningKeyError naming `variable`. */
export function readPublicKey(path: string, preferred: SigningAlgorithm, role: KeyRole, variable: string): VerificationKey {
  let key: KeyObject;
  try {
    key = createPublicKey(readPem(path, 'public key'));
  } catch (e) {
    if (e instanceof SigningKeyError) throw e;
    throw new SigningKeyError(`${path} (${variable}) is not a PEM public key`);
  }
  return toVerificationKey(key, algorithmFor(key, preferred, path), role, path);
}

/** The JWKS response's max-age: how long a verifier may use a JWKS it fetched (a staged key waits this long before it signs). */
export const JWKS_MAX_AGE_SECONDS = 300;

export function jwks(keys: SigningKeySet): { keys: Array<Readonly<Record<string, string>>> } {
  return { keys: [...keys.verifiers.values()].map((v) => v.jwk) };
}
