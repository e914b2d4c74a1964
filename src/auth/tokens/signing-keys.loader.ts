import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type SigningAlgorithm = 'ES256' | 'RS256' | 'PS256';
export const ALLOWED_ALGORITHMS: ReadonlySet<string> = new Set<SigningAlgorithm>(['ES256', 'RS256', 'PS256']);

export interface VerificationKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly key: KeyObject;
  readonly jwk: Readonly<Record<string, string>>;
}

export interface SigningKeySet {
  /** The newest key: it signs. */
  readonly signer: { readonly kid: string; readonly alg: SigningAlgorithm; readonly privateKey: KeyObject };
  /** Every key that verifies, by kid: the signer's and retired ones still within their tokens' lifetime. */
  readonly verifiers: ReadonlyMap<string, VerificationKey>;
  /** Secret material derived from the signer's private key for MACs the server alone checks. */
  readonly macSeed: Buffer;
}

export interface SigningKeyOptions {
  privateKeyPath: string;
  publicKeyPath: string;
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

function toVerificationKey(key: KeyObject, alg: SigningAlgorithm): VerificationKey {
  const exported = key.export({ format: 'jwk' }) as Record<string, string>;
  const kid = thumbprint(exported);
  const jwk = { ...exported, kid, alg, use: 'sig' };
  return { kid, alg, key, jwk };
}

function generatePair(opts: SigningKeyOptions): void {
  const { privateKey, publicKey } =
    opts.algorithm === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  mkdirSync(dirname(opts.privateKeyPath), { recursive: true, mode: 0o700 });
  mkdirSync(dirname(opts.publicKeyPath), { recursive: true, mode: 0o700 });
  writeFileSync(opts.privateKeyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  writeFileSync(opts.publicKeyPath, publicKey.export({ format: 'pem', type: 'spki' }), { mode: 0o644 });
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
      throw new SigningKeyError(`signing key files are missing (JWT_PRIVATE_KEY_PATH=${opts.privateKeyPath}, JWT_PUBLIC_KEY_PATH=${opts.publicKeyPath})`);
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
  const current = toVerificationKey(publicKey, alg);
  const fromPrivate = toVerificationKey(createPublicKey(privateKey), alg);
  if (fromPrivate.kid !== current.kid) {
    throw new SigningKeyError('JWT_PUBLIC_KEY_PATH is not the public half of JWT_PRIVATE_KEY_PATH');
  }
  const verifiers = new Map<string, VerificationKey>([[current.kid, current]]);
  for (const path of opts.previousPublicKeyPaths) {
    let key: KeyObject;
    try {
      key = createPublicKey(readPem(path, 'previous public key'));
    } catch (e) {
      if (e instanceof SigningKeyError) throw e;
      throw new SigningKeyError(`${path} (JWT_PREVIOUS_PUBLIC_KEY_PATHS) is not a PEM public key`);
    }
    const vk = toVerificationKey(key, algorithmFor(key, opts.algorithm, path));
    if (!verifiers.has(vk.kid)) verifiers.set(vk.kid, vk);
  }
  const macSeed = createHash('sha256')
    .update('auth-domain/mac-seed/v1\0')
    .update(privateKey.export({ format: 'der', type: 'pkcs8' }))
    .digest();
  return { keys: { signer: { kid: current.kid, alg, privateKey }, verifiers, macSeed }, generated };
}

export function jwks(keys: SigningKeySet): { keys: Array<Readonly<Record<string, string>>> } {
  return { keys: [...keys.verifiers.values()].map((v) => v.jwk) };
}
