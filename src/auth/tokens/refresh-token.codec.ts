import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { MacSecret } from './mac-secret.loader';
import { isSessionId } from './session-id.codec';

/**
 * Refresh token: `<user id, base64url>.<sid>.<secret>.<tag>`.
 * - secret: 256 random bits; only SHA-256(secret) is stored.
 * - user id and sid locate the session (and its hash tag) without any index lookup.
 * - tag: HMAC over the rest with a server key. It proves the token was issued by us, so a
 *   presented-but-not-current token with a valid tag is an old token (theft), while a made-up
 *   secret for a known sid is merely invalid and cannot be used to revoke someone's session.
 */
export interface ParsedRefreshToken {
  readonly userId: string;
  readonly sid: string;
  readonly secret: Buffer;
  /** Whether the tag proves we issued this exact token. */
  readonly genuine: boolean;
}

const SHAPE = /^([A-Za-z0-9_-]{1,172})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{22})$/;
export const MAX_REFRESH_TOKEN_LENGTH = 270;

export class RefreshTokenCodec {
  private readonly macKey: Buffer;

  /**
   * `purpose` separates token families: the browser-session cookie uses the same format under its
   * own tag key, so neither kind of token is ever "genuine" as the other.
   */
  constructor(secret: MacSecret, purpose = 'refresh-token-tag/v1') {
    this.macKey = secret.derive(purpose);
  }

  create(userId: string, sid: string): { token: string; secret: Buffer; secretHash: Buffer } {
    const secret = randomBytes(SECRET_BYTES);
    return { token: this.tokenOf(userId, sid, secret), secret, secretHash: hashSecret(secret) };
  }

  /** Null when the text is not a refresh token at all. */
  parse(token: string): ParsedRefreshToken | null {
    if (typeof token !== 'string' || token.length > MAX_REFRESH_TOKEN_LENGTH) return null;
    const m = SHAPE.exec(token);
    if (!m || !isSessionId(m[2])) return null;
    const userId = Buffer.from(m[1], 'base64url').toString('utf8');
    if (userId.length === 0 || userId.length > 128 || /[\u0000-\u001f{}]/.test(userId)) return null;
    const body = token.slice(0, token.lastIndexOf('.'));
    const expected = Buffer.from(this.tag(body), 'ascii');
    const given = Buffer.from(m[4], 'ascii');
    return { userId, sid: m[2], secret: Buffer.from(m[3], 'base64url'), genuine: timingSafeEqual(expected, given) };
  }

  /**
   * The successor kept for the reuse grace, in a form only the previous secret opens: the
   * successor's secret XOR a pad derived from the previous secret, followed by a 16-byte prefix of
   * the successor's hash (the store holds it as the current hash anyway) to check what comes back.
   * 48 bytes; the user id, sid and tag of the successor are those of the previous token, rebuilt on
   * opening. The secret is the only part worth hiding: an AES-GCM box over the whole token would
   * give the same property in ~150 bytes, at more work per refresh.
   */
  sealSuccessor(previousSecret: Buffer, successor: { readonly secret: Buffer; readonly secretHash: Buffer }): Buffer {
    const out = Buffer.allocUnsafe(SEALED_SUCCESSOR_BYTES);
    const pad = successorPad(previousSecret);
    for (let i = 0; i < SECRET_BYTES; i++) out[i] = successor.secret[i] ^ pad[i];
    successor.secretHash.copy(out, SECRET_BYTES, 0, 16);
    return out;
  }

  /** The successor token sealed for `previous`, or null when the blob does not open to a secret matching its hash. */
  openSuccessor(previous: ParsedRefreshToken, sealed: Buffer): string | null {
    if (sealed.length !== SEALED_SUCCESSOR_BYTES || previous.secret.length !== SECRET_BYTES) return null;
    const pad = successorPad(previous.secret);
    const secret = Buffer.allocUnsafe(SECRET_BYTES);
    for (let i = 0; i < SECRET_BYTES; i++) secret[i] = sealed[i] ^ pad[i];
    if (!timingSafeEqual(hashSecret(secret).subarray(0, 16), sealed.subarray(SECRET_BYTES))) return null;
    return this.tokenOf(previous.userId, previous.sid, secret);
  }

  private tokenOf(userId: string, sid: string, secret: Buffer): string {
    const body = `${Buffer.from(userId, 'utf8').toString('base64url')}.${sid}.${secret.toString('base64url')}`;
    return `${body}.${this.tag(body)}`;
  }

  private tag(body: string): string {
    // HMAC-SHA-256 truncated to 128 bits.
    return createHmac('sha256', this.macKey).update(body).digest().subarray(0, 16).toString('base64url');
  }
}

/** SHA-256 of a secret, through the one-shot `crypto.hash`. */
export function hashSecret(secret: Buffer): Buffer {
  return Buffer.from(hash('sha256', secret, 'hex'), 'hex');
}

const SECRET_BYTES = 32;
/** What sealSuccessor returns: the successor's secret, masked, then the first 16 bytes of its hash. */
export const SEALED_SUCCESSOR_BYTES = SECRET_BYTES + 16;
const PAD_LABEL = Buffer.from('auth-domain/refresh-successor-pad/v2\0', 'latin1');

/**
 * The pad that masks the successor's secret: SHA-256 over a label and the previous secret. The
 * previous secret is a uniform 256-bit key that is rotated away exactly once, so each pad masks
 * one successor only (a one-time pad), and the store, which holds only that secret's hash, cannot
 * unmask it.
 */
function successorPad(previousSecret: Buffer): Buffer {
  return Buffer.from(hash('sha256', Buffer.concat([PAD_LABEL, previousSecret]), 'hex'), 'hex');
}
