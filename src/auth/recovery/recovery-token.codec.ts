import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a mailed token lets its holder do. One live token per user and purpose. */
export type RecoveryPurpose = 'verify-email' | 'reset-password';

export interface ParsedRecoveryToken {
  readonly userId: string;
  readonly secret: Buffer;
}

const SECRET_BYTES = 32;
const SHAPE = /^([A-Za-z0-9_-]{1,172})\.([A-Za-z0-9_-]{43})$/;
export const MAX_RECOVERY_TOKEN_LENGTH = 216;

/**
 * The token in a mailed link: `<user id, base64url>.<secret>`, the secret 256 random bits. The
 * user id locates the one live token of that user (no index); only a hash is stored.
 */
export function createRecoveryToken(userId: string): { token: string; secret: Buffer } {
  const secret = randomBytes(SECRET_BYTES);
  return { token: `${Buffer.from(userId, 'utf8').toString('base64url')}.${secret.toString('base64url')}`, secret };
}

/** Null when the text is not a recovery token at all. */
export function parseRecoveryToken(token: unknown): ParsedRecoveryToken | null {
  if (typeof token !== 'string' || token.length > MAX_RECOVERY_TOKEN_LENGTH) return null;
  const m = SHAPE.exec(token);
  if (!m) return null;
  const userId = Buffer.from(m[1], 'base64url').toString('utf8');
  if (userId.length === 0 || userId.length > 128 || /[\u0000-\u001f{}]/.test(userId)) return null;
  return { userId, secret: Buffer.from(m[2], 'base64url') };
}

/**
 * What is stored: SHA-256 over the purpose, what the token vouches for, and the secret. The
 * binding is the account's address for a verification link (another address: dead) and its
 * password stamp for a reset link (any password change since: dead).
 */
export function recoveryTokenHash(purpose: RecoveryPurpose, binding: string, secret: Buffer): Buffer {
  return Buffer.from(hash('sha256', Buffer.concat([Buffer.from(`${purpose}\0${binding}\0`, 'utf8'), secret]), 'hex'), 'hex');
}

/** Constant time in the length of the stored hash. */
export function sameRecoveryHash(stored: Buffer, presented: Buffer): boolean {
  return stored.length === presented.length && timingSafeEqual(stored, presented);
}
