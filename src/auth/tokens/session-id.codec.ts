import { randomBytes } from 'node:crypto';

/**
 * A session id: 48-bit creation time (ms) followed by 80 random bits, base64url (22 chars).
 * Carrying the creation time lets every instance decide "created before the user's revoke-all
 * cut-off?" from the access token alone, with no store read.
 */
const SID_SHAPE = /^[A-Za-z0-9_-]{22}$/;

export function newSessionId(nowMs: number): string {
  const buf = Buffer.allocUnsafe(16);
  buf.writeUIntBE(Math.floor(nowMs), 0, 6);
  randomBytes(10).copy(buf, 6);
  return buf.toString('base64url');
}

export function isSessionId(value: string): boolean {
  return SID_SHAPE.test(value);
}

/** The creation time encoded in a well-formed session id. */
export function sessionCreatedAt(sid: string): number {
  return Buffer.from(sid.slice(0, 8), 'base64url').readUIntBE(0, 6);
}
