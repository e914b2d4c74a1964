import { Inject, Injectable } from '@nestjs/common';
import { constants as cryptoConstants, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { AuthError } from '../errors/auth-error.model';
import { Clock, CLOCK } from '../common/clock.port';
import { AUTH_SETTINGS, AuthSettings } from '../common/auth-settings';
import { SIGNING_KEYS } from './tokens.constants';
import { ALLOWED_ALGORITHMS, SigningKeySet, VerificationKey } from './signing-keys.loader';
import { isSessionId } from './session-id.codec';
import { claimsOfPayload, type UserClaims } from '../credentials/user-claims.validator';

/** What a verified access token says. Nothing personal: ids and times only. */
export interface AccessClaims {
  readonly sub: string;
  readonly sid: string;
  readonly jti: string;
  /** Seconds since epoch. */
  readonly iat: number;
  readonly exp: number;
  readonly authTime: number;
  /** The host's extra claims (roles, tenant...): empty when the token carries none. */
  readonly claims: UserClaims;
}

/** What an access token is issued for. */
export interface AccessTokenInput {
  readonly sub: string;
  readonly sid: string;
  readonly authTime: number;
  /** Validated extra claims (validateClaims), signed next to ours. */
  readonly claims?: UserClaims;
}

export const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_TOKEN_LENGTH = 4096;
/** 32 base64url characters of an ES256/RS256/PS256 signature: 192 bits, unique among our tokens in practice. */
const CACHE_KEY_LENGTH = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{2,1024}\.[A-Za-z0-9_-]{2,2048}\.[A-Za-z0-9_-]{2,1024}$/;
const FORBIDDEN_HEADERS = ['jku', 'jwk', 'x5u', 'x5c', 'crit'];

/**
 * Issues access JWTs with node:crypto on a KeyObject parsed once, and verifies them with a
 * strict, allocation-light path:
 * key by kid from our own set only, pinned algorithm, typ, iss, aud, exp, nbf with 30 s leeway.
 * Verified tokens are cached by their exact text until they expire, so a repeated token costs a
 * map lookup instead of an ECDSA verification.
 */
@Injectable()
export class AccessTokenService {
  /**
   * Verified tokens, found by the last CACHE_KEY_LENGTH characters of the token (inside its
   * signature) and answered only for the exact token: hashing a 32-character key instead of the
   * whole ~500-character token on every guarded request.
   */
  private readonly cache = new Map<string, { readonly token: string; readonly claims: AccessClaims }>();
  private readonly cacheMax: number;
  /** The protected header never changes for a signer: encode it once. */
  private readonly headerSegment: string;

  constructor(
    @Inject(SIGNING_KEYS) private readonly keys: SigningKeySet,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.cacheMax = options.verifiedTokenCacheSize;
    this.headerSegment = b64json({ alg: keys.signer.alg, typ: 'at+jwt', kid: keys.signer.kid });
  }

  /** `issuedAt` (ms, default now): the testing kit's already-expired tokens only. */
  issue(input: AccessTokenInput, issuedAt?: number): { token: string; expiresIn: number } {
    const { data, expiresIn } = this.signingInput(input, issuedAt);
    return { token: `${data}.${this.signHere(data).toString('base64url')}`, expiresIn };
  }

  /** The signature of a JWS signing input (ASCII). */
  private signHere(data: string): Buffer {
    const { alg, privateKey } = this.keys.signer;
    return cryptoSign('sha256', Buffer.from(data, 'latin1'), { key: privateKey, ...SIGN_OPTIONS[alg] } as Parameters<typeof cryptoSign>[2]);
  }

  private signingInput(input: AccessTokenInput, issuedAt = this.clock.now()): { data: string; expiresIn: number } {
    const iat = Math.floor(issuedAt / 1000);
    const expiresIn = this.options.accessTokenTtl;
    // Signed with node:crypto on the KeyObject parsed once at boot (docs/performance.md).
    // The host's claims first: ours, written after, are what a reader finds whatever it was given.
    const payload = b64json({
      ...input.claims,
      iss: this.options.issuer,
      aud: this.options.audience,
      // RFC 9068 section 2.2: every at+jwt names the client it was issued to.
      client_id: this.options.clientId,
      sub: input.sub,
      sid: input.sid,
      jti: randomBytes(16).toString('base64url'),
      iat,
      exp: iat + expiresIn,
      auth_time: input.authTime,
    });
    return { data: `${this.headerSegment}.${payload}`, expiresIn };
  }

  /** Throws AuthError ACCESS_TOKEN_INVALID or ACCESS_TOKEN_EXPIRED. */
  verify(token: string): AccessClaims {
    const nowSec = this.clock.now() / 1000;
    const key = token.length > CACHE_KEY_LENGTH ? token.slice(token.length - CACHE_KEY_LENGTH) : token;
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.token === token) {
      if (nowSec <= cached.claims.exp + CLOCK_TOLERANCE_SECONDS) return cached.claims;
      this.cache.delete(key);
      throw new AuthError('ACCESS_TOKEN_EXPIRED');
    }
    const claims = this.verifyUncached(token, nowSec);
    if (this.cacheMax > 0) {
      // Evict the oldest insertion: bounded memory, no per-hit bookkeeping on the hot path.
      if (this.cache.size >= this.cacheMax && !this.cache.has(key)) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, { token, claims });
    }
    return claims;
  }

  private verifyUncached(token: string, nowSec: number): AccessClaims {
    if (token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token)) throw invalid();
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    const header = parseSegment(token.slice(0, firstDot));
    const alg = header.alg;
    if (typeof alg !== 'string' || !ALLOWED_ALGORITHMS.has(alg)) throw invalid();
    if (FORBIDDEN_HEADERS.some((h) => h in header)) throw invalid();
    if (header.typ !== 'at+jwt' && header.typ !== 'application/at+jwt') throw invalid();
    const key = typeof header.kid === 'string' ? this.keys.verifiers.get(header.kid) : undefined;
    if (!key || key.alg !== alg) throw invalid();
    const signature = Buffer.from(token.slice(secondDot + 1), 'base64url');
    if (!verifySignature(key, Buffer.from(token.slice(0, secondDot)), signature)) throw invalid();

    const p = parseSegment(token.slice(firstDot + 1, secondDot));
    if (p.iss !== this.options.issuer) throw invalid();
    if (!(p.aud === this.options.audience || (Array.isArray(p.aud) && p.aud.includes(this.options.audience)))) throw invalid();
    if (!isNumericDate(p.exp) || !isNumericDate(p.iat)) throw invalid();
    if (p.nbf !== undefined && (!isNumericDate(p.nbf) || p.nbf > nowSec + CLOCK_TOLERANCE_SECONDS)) throw invalid();
    if (p.iat > nowSec + CLOCK_TOLERANCE_SECONDS) throw invalid();
    if (typeof p.sub !== 'string' || p.sub.length === 0 || p.sub.length > 128) throw invalid();
    if (typeof p.sid !== 'string' || !isSessionId(p.sid)) throw invalid();
    if (typeof p.jti !== 'string' || p.jti.length === 0 || p.jti.length > 128) throw invalid();
    if (typeof p.client_id !== 'string' || p.client_id.length === 0 || p.client_id.length > 128) throw invalid();
    const authTime = p.auth_time === undefined ? p.iat : p.auth_time;
    if (!isNumericDate(authTime)) throw invalid();
    if (nowSec > p.exp + CLOCK_TOLERANCE_SECONDS) throw new AuthError('ACCESS_TOKEN_EXPIRED');
    return Object.freeze({ sub: p.sub, sid: p.sid, jti: p.jti, iat: p.iat, exp: p.exp, authTime, claims: claimsOfPayload(p) });
  }
}

function b64json(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** node:crypto sign options per JWS algorithm (ES256 as raw r||s, as JWS carries it). */
const SIGN_OPTIONS: Readonly<Record<VerificationKey['alg'], Readonly<Record<string, unknown>>>> = {
  ES256: { dsaEncoding: 'ieee-p1363' },
  RS256: { padding: cryptoConstants.RSA_PKCS1_PADDING },
  PS256: { padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
};

function invalid(): AuthError {
  return new AuthError('ACCESS_TOKEN_INVALID');
}

function isNumericDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function parseSegment(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid();
  return value as Record<string, unknown>;
}

function verifySignature(key: VerificationKey, data: Buffer, signature: Buffer): boolean {
  try {
    switch (key.alg) {
      case 'ES256':
        // JWS carries raw r||s (64 bytes), not DER.
        return signature.length === 64 && cryptoVerify('sha256', data, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
      case 'RS256':
        return cryptoVerify('sha256', data, { key: key.key, padding: cryptoConstants.RSA_PKCS1_PADDING }, signature);
      case 'PS256':
        return cryptoVerify('sha256', data, { key: key.key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    }
  } catch {
    return false;
  }
}
