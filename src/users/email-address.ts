/** RFC 5321 limits: a whole address is at most 254 characters, its local part at most 64. */
export const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

/**
 * Above this raw length an input is refused before trimming or lower-casing it, so a huge
 * string costs one length check and nothing else. Generous, to leave room for whitespace.
 */
const MAX_RAW_EMAIL_LENGTH = 1024;

/**
 * The compared (unique) form: trimmed, NFKC-normalised and case-folded (locale-independent), so
 * look-alikes such as full-width `ａｄａ@example.com` and `ada@example.com` are one account.
 * Returns null when the input is not a string or is too long to be an address, without doing work
 * on it.
 */
export function normaliseEmail(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > MAX_RAW_EMAIL_LENGTH) return null;
  // NFKC again after lower-casing: a few case mappings leave a not-NFKC sequence.
  const email = raw.trim().normalize('NFKC').toLowerCase().normalize('NFKC');
  return email.length === 0 || email.length > MAX_EMAIL_LENGTH ? null : email;
}

/** The form shown back to the user: what they typed, trimmed (and NFC, so it compares as text). */
export function displayEmail(raw: string): string {
  return raw.trim().normalize('NFC');
}

// Whitespace (incl. Unicode spaces), C0/C1 controls, and the bidi/zero-width format characters
// that would make two addresses look identical.
const FORBIDDEN = /[\s\p{Cc}\p{Cf}]/u;
const DOMAIN_LABEL = /^[^.@]+$/;

/**
 * A deliberately simple, strict-ish check of an already normalised address: exactly one @, a
 * non-empty local part of at most 64 characters, a domain of at least two non-empty dot-separated
 * labels, nothing invisible. Deliverability is for a confirmation mail to prove, not a regex.
 */
export function isValidEmail(normalised: string): boolean {
  if (normalised.length === 0 || normalised.length > MAX_EMAIL_LENGTH || FORBIDDEN.test(normalised)) return false;
  const parts = normalised.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts as [string, string];
  if (local.length === 0 || local.length > MAX_LOCAL_PART_LENGTH) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((l) => DOMAIN_LABEL.test(l));
}

/** Thrown by register for an address that fails `isValidEmail`; callers should validate first. */
export class InvalidEmailError extends Error {
  constructor() {
    super('Not a valid email address');
    this.name = 'InvalidEmailError';
  }
}
