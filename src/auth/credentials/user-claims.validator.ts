/**
 * Extra claims a host gives a user (CredentialsPort.claimsFor): e.g. `roles` and `tenant`. They
 * travel in every access token, so they are kept small and plain: a few lower-case names, short
 * ASCII values without spaces, and never a name the token itself uses.
 */
export type ClaimValue = string | readonly string[];
export type UserClaims = Readonly<Record<string, ClaimValue>>;

export const NO_CLAIMS: UserClaims = Object.freeze({});

export const MAX_CLAIM_NAMES = 8;
export const MAX_CLAIM_VALUES = 16;
const CLAIM_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const CLAIM_VALUE = /^[A-Za-z0-9._:@/+-]{1,64}$/;

/** Registered JWT claims (RFC 7519, 9068, 8693, OIDC) and ours: a host cannot overwrite them. */
export const RESERVED_CLAIM_NAMES: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'auth_time', 'client_id',
  'typ', 'cty', 'alg', 'kid', 'scope', 'azp', 'acr', 'amr', 'nonce', 'cnf', 'act', 'may_act', 'at_hash', 'c_hash',
]);

/**
 * The host's claims, checked and frozen (duplicates in a list removed); throws an Error naming the
 * offending claim: a port that returns bad claims is a bug of the host, found at its first login.
 */
export function validateClaims(input: unknown): UserClaims {
  if (input === null || input === undefined) return NO_CLAIMS;
  if (typeof input !== 'object' || Array.isArray(input)) throw claimsError('claimsFor must return an object of claims');
  const entries = Object.entries(input as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return NO_CLAIMS;
  if (entries.length > MAX_CLAIM_NAMES) throw claimsError(`at most ${MAX_CLAIM_NAMES} claims`);
  const out: Record<string, ClaimValue> = {};
  for (const [name, value] of entries) {
    if (!CLAIM_NAME.test(name)) throw claimsError(`claim name "${name.slice(0, 40)}" must match ${CLAIM_NAME}`);
    if (RESERVED_CLAIM_NAMES.has(name)) throw claimsError(`claim name "${name}" is reserved`);
    if (typeof value === 'string') {
      if (!CLAIM_VALUE.test(value)) throw claimsError(`claim "${name}": a value must match ${CLAIM_VALUE}`);
      out[name] = value;
    } else if (Array.isArray(value)) {
      if (value.length > MAX_CLAIM_VALUES) throw claimsError(`claim "${name}": at most ${MAX_CLAIM_VALUES} values`);
      for (const v of value) {
        if (typeof v !== 'string' || !CLAIM_VALUE.test(v)) throw claimsError(`claim "${name}": every value must match ${CLAIM_VALUE}`);
      }
      out[name] = Object.freeze([...new Set(value as string[])]);
    } else {
      throw claimsError(`claim "${name}" must be a string or a list of strings`);
    }
  }
  return Object.freeze(out);
}

/**
 * The extra claims of a verified token's payload: every name we did not reserve whose value is a
 * string or a list of strings (we signed it, after validateClaims).
 */
export function claimsOfPayload(payload: Record<string, unknown>): UserClaims {
  let out: Record<string, ClaimValue> | undefined;
  for (const name in payload) {
    if (RESERVED_CLAIM_NAMES.has(name)) continue;
    const v = payload[name];
    if (typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      (out ??= {})[name] = Array.isArray(v) ? Object.freeze(v as string[]) : v;
    }
  }
  return out ? Object.freeze(out) : NO_CLAIMS;
}

/** Whether claims satisfy a requirement: a string requirement needs an equal value or a list holding it; a list, all of its values. */
export function claimsSatisfy(claims: UserClaims, required: Readonly<Record<string, ClaimValue>>): boolean {
  for (const name in required) {
    const have = claims[name];
    if (have === undefined) return false;
    const want = required[name];
    for (const w of typeof want === 'string' ? [want] : want) {
      if (typeof have === 'string' ? have !== w : !have.includes(w)) return false;
    }
  }
  return true;
}

function claimsError(message: string): Error {
  return new Error(`CredentialsPort.claimsFor: ${message}`);
}
