import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Bytes of a generated secret, and the least a loaded one may have (HMAC-SHA-256 keys). */
export const MAC_SECRET_BYTES = 32;
const MAX_SECRET_BYTES = 1024;
/** base64 or base64url, padding optional. */
const SECRET_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;

export class MacSecretError extends Error {}

/**
 * The server's own secret for the MACs only it checks (refresh-token and session-cookie tags,
 * CSRF tokens, device binding, lockout counter keys, the audit address hash), apart from the
 * signing keys: rotating those changes none of them. Each use gets its own key, derived with
 * HKDF-SHA-256 under its purpose label. The bytes stay inside (a private field, so they are
 * never printed or serialised with the object).
 */
export class MacSecret {
  readonly #ikm: Buffer;

  private constructor(ikm: Buffer) {
    this.#ikm = ikm;
  }

  static fromBytes(bytes: Buffer): MacSecret {
    if (bytes.length < MAC_SECRET_BYTES) throw new MacSecretError(`a MAC secret needs at least ${MAC_SECRET_BYTES} bytes`);
    return new MacSecret(Buffer.from(bytes));
  }

  /** The 32-byte key for one purpose, e.g. 'refresh-token-tag/v1'. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#ikm, 'auth-domain', purpose, 32));
  }
}

export interface MacSecretOptions {
  /** A text file: at least 32 random bytes as base64 or base64url (AUTH_MAC_SECRET_PATH). */
  path: string;
  /** Create it when missing (development only). */
  generateIfMissing: boolean;
}

/** The file's text for `bytes`: base64url and a newline. */
export function macSecretText(bytes: Buffer): string {
  return `${bytes.toString('base64url')}\n`;
}

/** Writes a new random secret, readable by the owner only. Never overwrites. */
export function writeMacSecret(path: string, bytes: Buffer = randomBytes(MAC_SECRET_BYTES)): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, macSecretText(bytes), { mode: 0o600, flag: 'wx' });
}

/** Loads (or, in development, creates) the MAC secret. Every refusal is one line naming AUTH_MAC_SECRET_PATH. */
export function loadMacSecret(opts: MacSecretOptions): { secret: MacSecret; generated: boolean } {
  let generated = false;
  if (!existsSync(opts.path)) {
    if (!opts.generateIfMissing) {
      throw new MacSecretError(`no MAC secret at AUTH_MAC_SECRET_PATH=${opts.path} (create one with \`npm run keys -- generate\`)`);
    }
    writeMacSecret(opts.path);
    generated = true;
  }
  let text: string;
  try {
    text = readFileSync(opts.path, 'utf8').trim();
  } catch {
    throw new MacSecretError(`cannot read the MAC secret at AUTH_MAC_SECRET_PATH=${opts.path}`);
  }
  const bytes = SECRET_TEXT.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (bytes.length < MAC_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) {
    throw new MacSecretError(
      `AUTH_MAC_SECRET_PATH=${opts.path} must hold ${MAC_SECRET_BYTES} to ${MAX_SECRET_BYTES} random bytes as base64 or base64url text`,
    );
  }
  return { secret: MacSecret.fromBytes(bytes), generated };
}
