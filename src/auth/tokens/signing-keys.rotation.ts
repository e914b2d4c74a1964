import { createHash, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLOCK_TOLERANCE_SECONDS } from './access-token.service';
import { writeMacSecret } from './mac-secret.loader';
import { generatePair, JWKS_MAX_AGE_SECONDS, KeyRole, loadSigningKeys, readPublicKey, SigningAlgorithm, SigningKeyError } from './signing-keys.loader';

/**
 * The key files, as the server reads them (keyFiles() in src/config), for the keys script
 * (scripts/keys.ts): generate, stage and promote a signing key, list them.
 *
 * A rotation is two steps, each followed by a rolling restart, so that every verifier knows a key
 * before any token signed by it exists:
 * 1. stage: a new pair, its public half at the next-key path. Instances publish it in the JWKS
 *    and accept it; nothing signs with it yet.
 * 2. promote (once the staged key has been served everywhere for longer than the JWKS cache,
 *    300 s): the current public key moves to the first previous-key path (retired: it verifies
 *    what it signed until those tokens have expired), the staged pair becomes the signing pair,
 *    the old private key is gone.
 * The MAC secret is never touched: sessions, cookies and CSRF tokens do not depend on these keys.
 */
export interface KeyFiles {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  readonly nextPublicKeyPath: string;
  readonly previousPublicKeyPaths: readonly string[];
  readonly macSecretPath: string;
  readonly algorithm: SigningAlgorithm;
  /** Seconds (ACCESS_TOKEN_TTL): how long a retired key must keep verifying. */
  readonly accessTokenTtl: number;
}

export class KeyRotationError extends Error {}

/** Where a staged key's private half waits for its promotion: beside the signing key it will replace. */
export function nextPrivateKeyPath(files: KeyFiles): string {
  return join(dirname(files.privateKeyPath), 'next-private.pem');
}

/** Creates what is missing: the signing pair, the MAC secret. Never overwrites. Returns what it did. */
export function generateKeys(files: KeyFiles, opts: { fromSigningKey?: boolean } = {}): string[] {
  const done: string[] = [];
  const havePair = existsSync(files.privateKeyPath) && existsSync(files.publicKeyPath);
  if (opts.fromSigningKey && !havePair) {
    throw new KeyRotationError(`--from-signing-key needs the signing key at ${files.privateKeyPath}; there is none`);
  }
  if (!havePair) {
    if (existsSync(files.privateKeyPath) || existsSync(files.publicKeyPath)) {
      throw new KeyRotationError(`only one half of the signing pair exists (${files.privateKeyPath}, ${files.publicKeyPath}); not overwriting it`);
    }
    generatePair(files);
    done.push(`created the signing key pair ${files.privateKeyPath}, ${files.publicKeyPath} (kid ${signingKid(files)})`);
  } else {
    done.push(`signing key pair present (kid ${signingKid(files)})`);
  }
  if (existsSync(files.macSecretPath)) {
    done.push(`MAC secret present at ${files.macSecretPath}`);
  } else if (opts.fromSigningKey) {
    writeMacSecret(files.macSecretPath, legacyMacSeed(files.privateKeyPath));
    done.push(`created the MAC secret ${files.macSecretPath} from the signing key (existing sessions and cookies stay valid)`);
  } else {
    writeMacSecret(files.macSecretPath);
    done.push(`created the MAC secret ${files.macSecretPath}`);
  }
  return done;
}

/**
 * Step 1: a new pair, published (next-key path) but not signing. Refuses while a key is already
 * staged.
 */
export function stageNextKey(files: KeyFiles): { kid: string; publicKeyPath: string } {
  const current = signingKid(files);
  if (existsSync(files.nextPublicKeyPath)) {
    const staged = readPublicKey(files.nextPublicKeyPath, files.algorithm, 'next', 'JWT_NEXT_PUBLIC_KEY_PATH');
    throw new KeyRotationError(`a key is already staged (kid ${staged.kid}, ${files.nextPublicKeyPath}): promote it with \`rotate --promote\``);
  }
  generatePair({ privateKeyPath: nextPrivateKeyPath(files), publicKeyPath: files.nextPublicKeyPath, algorithm: files.algorithm });
  const kid = stagedPair(files).kid;
  if (kid === current) throw new KeyRotationError('the new key equals the signing key'); // cannot happen with fresh randomness
  return { kid, publicKeyPath: files.nextPublicKeyPath };
}

/**
 * Step 2: the staged pair signs, the signing key retires to the first previous-key path. Refuses
 * (unless `force`) when the staged key may not yet be in every cached JWKS, or when the retired
 * key it would replace may still have live tokens.
 */
export function promoteNextKey(files: KeyFiles, now = Date.now(), opts: { force?: boolean } = {}): { kid: string; retiredKid: string; retiredPath: string } {
  const retiredPath = files.previousPublicKeyPaths[0];
  if (retiredPath === undefined) {
    throw new KeyRotationError('JWT_PREVIOUS_PUBLIC_KEY_PATHS is empty: the retiring key would stop verifying its live tokens');
  }
  if (!existsSync(files.nextPublicKeyPath)) throw new KeyRotationError(`no staged key at ${files.nextPublicKeyPath}: run \`rotate\` first`);
  const staged = stagedPair(files);
  const retiring = signingKid(files);
  const stagedFor = now - statSync(files.nextPublicKeyPath).mtimeMs;
  if (!opts.force && stagedFor < JWKS_MAX_AGE_SECONDS * 1000) {
    throw new KeyRotationError(
      `the key was staged ${Math.floor(stagedFor / 1000)} s ago: promote it once every instance has served it for ${JWKS_MAX_AGE_SECONDS} s (the JWKS cache), or pass --force`,
    );
  }
  if (!opts.force && existsSync(retiredPath)) {
    const until = retiredUntil(files, retiredPath);
    if (now < until) {
      throw new KeyRotationError(`${retiredPath} still verifies tokens that may be live until ${new Date(until).toISOString()}; promote after that, or pass --force`);
    }
  }
  // The retired public key first, then the pair: at no point is a key that signed lost.
  replaceFile(retiredPath, readFileSync(files.publicKeyPath), 0o644);
  replaceFile(files.privateKeyPath, readFileSync(nextPrivateKeyPath(files)), 0o600);
  replaceFile(files.publicKeyPath, readFileSync(files.nextPublicKeyPath), 0o644);
  unlinkSync(nextPrivateKeyPath(files));
  unlinkSync(files.nextPublicKeyPath);
  return { kid: staged.kid, retiredKid: retiring, retiredPath };
}

export interface KeyListing {
  readonly role: KeyRole | 'mac-secret';
  readonly path: string;
  /** Null for an absent file (a verify-only path with no key, or a missing MAC secret). */
  readonly kid: string | null;
  readonly alg: SigningAlgorithm | null;
  /** When the file was written: staged, retired, or created. */
  readonly since: Date | null;
  /** Retired keys: when the last token they can have signed expires (counted from the file's time). */
  readonly verifiesUntil: Date | null;
}

/** Every key file and its role, in JWKS order, then the MAC secret (never its content). */
export function listKeys(files: KeyFiles): KeyListing[] {
  const out: KeyListing[] = [];
  const entry = (role: KeyListing['role'], path: string, read: () => { kid: string; alg: SigningAlgorithm } | null): void => {
    const present = existsSync(path);
    const key = present ? read() : null;
    const since = present ? statSync(path).mtime : null;
    const verifiesUntil = role === 'retired' && present ? new Date(retiredUntil(files, path)) : null;
    out.push({ role, path, kid: key?.kid ?? null, alg: key?.alg ?? null, since, verifiesUntil });
  };
  entry('signing', files.publicKeyPath, () => readPublicKey(files.publicKeyPath, files.algorithm, 'signing', 'JWT_PUBLIC_KEY_PATH'));
  entry('next', files.nextPublicKeyPath, () => readPublicKey(files.nextPublicKeyPath, files.algorithm, 'next', 'JWT_NEXT_PUBLIC_KEY_PATH'));
  for (const path of files.previousPublicKeyPaths) {
    entry('retired', path, () => readPublicKey(path, files.algorithm, 'retired', 'JWT_PREVIOUS_PUBLIC_KEY_PATHS'));
  }
  entry('mac-secret', files.macSecretPath, () => null);
  return out;
}

/** A retired key's tokens have all expired ACCESS_TOKEN_TTL + the verifier's 30 s leeway after it stopped signing. */
function retiredUntil(files: KeyFiles, path: string): number {
  return statSync(path).mtimeMs + (files.accessTokenTtl + CLOCK_TOLERANCE_SECONDS) * 1000;
}

function signingKid(files: KeyFiles): string {
  return loadPair(files.privateKeyPath, files.publicKeyPath, files.algorithm, 'the signing key').kid;
}

function stagedPair(files: KeyFiles): { kid: string } {
  return loadPair(nextPrivateKeyPath(files), files.nextPublicKeyPath, files.algorithm, 'the staged key');
}

/** A pair that matches and fits the algorithm, as the server would load it. */
function loadPair(privateKeyPath: string, publicKeyPath: string, algorithm: SigningAlgorithm, what: string): { kid: string } {
  try {
    return loadSigningKeys({ privateKeyPath, publicKeyPath, previousPublicKeyPaths: [], algorithm, generateIfMissing: false }).keys.signer;
  } catch (e) {
    if (e instanceof SigningKeyError) throw new KeyRotationError(`${what}: ${e.message}`);
    throw e;
  }
}

/** Written beside the target, then renamed over it: a reader sees the old file or the new one. */
function replaceFile(path: string, content: Buffer, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}

/**
 * The MAC seed as builds before the separate MAC secret derived it from the signing key: written
 * as the first MAC secret, it keeps every existing session, cookie and CSRF token valid across the
 * upgrade. From then on it no longer follows the signing key.
 */
function legacyMacSeed(privateKeyPath: string): Buffer {
  const privateKey = createPrivateKey(readFileSync(privateKeyPath, 'utf8'));
  return createHash('sha256')
    .update('auth-domain/mac-seed/v1\0')
    .update(privateKey.export({ format: 'der', type: 'pkcs8' }))
    .digest();
}
