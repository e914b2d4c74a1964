import { COMMON_PASSWORDS } from './common-passwords';

/**
 * Password policy (NIST SP 800-63B, OWASP ASVS 5.0 V6.2): length only, no composition rules, a
 * blocklist of common/breached passwords (common-passwords.ts), nothing derived from the email
 * address, NFKC before anything else, refused (never truncated) above the maximum.
 *
 * Minimum 8 code points: ASVS 5.0 V6.2.1 and 800-63B-4 for a password that is one factor of
 * several. 800-63B-4 asks 15 for a password that is the only factor, which it is here until a
 * second factor exists: raising MIN_PASSWORD_CODE_POINTS to 15 is the one-line change (see
 * docs/security-model.md). Maximum 256 code points (at least 64 must be accepted); argon2id hashes any length.
 */
export const MIN_PASSWORD_CODE_POINTS = 8;
export const MAX_PASSWORD_CODE_POINTS = 256;

/**
 * Above this many UTF-16 units an input is refused before NFKC, so a huge string costs one
 * length check. 4 per allowed code point leaves room for input that NFKC composes (e.g. a base
 * letter plus combining marks) and still fits the limit once normalised.
 */
const MAX_RAW_PASSWORD_UNITS = 4 * MAX_PASSWORD_CODE_POINTS;

/** Local parts shorter than this are too likely to appear by chance to be worth refusing. */
const MIN_LOCAL_PART_TO_CHECK = 4;

export type PreparedPassword =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly detail: string };

const TOO_LONG = `Use at most ${MAX_PASSWORD_CODE_POINTS} characters.`;

/**
 * The form a password is hashed and verified in: NFKC, so a compatibility character (a ligature,
 * a full-width letter) typed on one keyboard matches its plain equivalent typed on another.
 * Register and verify both go through here, so both agree on the form and on the upper bound.
 * Too long is refused, never silently truncated.
 */
export function preparePassword(raw: unknown): PreparedPassword {
  if (typeof raw !== 'string' || raw.length > MAX_RAW_PASSWORD_UNITS) return { ok: false, detail: TOO_LONG };
  const value = raw.normalize('NFKC');
  if (codePoints(value) > MAX_PASSWORD_CODE_POINTS) return { ok: false, detail: TOO_LONG };
  return { ok: true, value };
}

/**
 * Policy for a new password, given the account's normalised email. Returns a human sentence
 * explaining the first rule broken, or null when the password is acceptable.
 * `prepared` is the output of `preparePassword` (already NFKC and within the upper bound).
 */
export function passwordPolicyViolation(prepared: string, normalisedEmail: string): string | null {
  if (codePoints(prepared) < MIN_PASSWORD_CODE_POINTS) {
    return `Use at least ${MIN_PASSWORD_CODE_POINTS} characters.`;
  }
  const lower = prepared.toLowerCase();
  if (lower === normalisedEmail) return 'Do not use your email address as your password.';
  const at = normalisedEmail.lastIndexOf('@');
  const local = at > 0 ? normalisedEmail.slice(0, at) : '';
  if (codePoints(local) >= MIN_LOCAL_PART_TO_CHECK && lower.includes(local)) {
    return 'Do not include the part of your email address before the @ in your password.';
  }
  if (COMMON_PASSWORDS.has(lower)) return 'This password is too common; choose one that is harder to guess.';
  return null;
}

function codePoints(s: string): number {
  let n = 0;
  // for…of iterates by code point, so a surrogate pair counts once.
  for (const _ of s) n++;
  return n;
}
