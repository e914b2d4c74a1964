/**
 * The closed set of error codes the auth context can produce (panva/jose style: a closed union,
 * never free-form strings). One filter maps them to HTTP; nothing else throws HttpException.
 */
export const AUTH_ERROR_CODES = {
  INVALID_CREDENTIALS: { status: 401, title: 'Invalid email or password' },
  ACCESS_TOKEN_MISSING: { status: 401, title: 'Authentication required' },
  ACCESS_TOKEN_INVALID: { status: 401, title: 'Access token is invalid' },
  ACCESS_TOKEN_EXPIRED: { status: 401, title: 'Access token has expired' },
  SESSION_REVOKED: { status: 401, title: 'Session has been revoked' },
  SESSION_EXPIRED: { status: 401, title: 'Session has expired' },
  SESSION_NOT_FOUND: { status: 404, title: 'Session not found' },
  REFRESH_TOKEN_MISSING: { status: 401, title: 'Refresh token required' },
  REFRESH_TOKEN_INVALID: { status: 401, title: 'Refresh token is invalid' },
  REFRESH_TOKEN_REUSED: { status: 401, title: 'Refresh token was already used; the session has been revoked' },
  DEVICE_MISMATCH: { status: 401, title: 'Refresh token presented from another device' },
  REAUTHENTICATION_REQUIRED: { status: 401, title: 'Recent authentication required; sign in again' },
  CSRF_TOKEN_INVALID: { status: 403, title: 'CSRF token missing or invalid' },
  SESSION_COOKIE_INVALID: { status: 401, title: 'Session cookie is invalid or its session has ended' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  MALFORMED_JSON: { status: 400, title: 'Request body is not valid JSON' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Request body must be application/json' },
  EMAIL_TAKEN: { status: 409, title: 'An account with this email already exists' },
  PASSWORD_REJECTED: { status: 400, title: 'Password does not meet the policy' },
  RECOVERY_TOKEN_INVALID: { status: 400, title: 'The link is invalid, has expired or was already used' },
  EMAIL_NOT_VERIFIED: { status: 403, title: 'The email address of this account is not verified' },
  CLIENT_UNAUTHORIZED: { status: 401, title: 'Client authentication failed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  STORE_UNAVAILABLE: { status: 503, title: 'A backing store is unavailable; retry later' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type AuthErrorCode = keyof typeof AUTH_ERROR_CODES;

export interface AuthErrorOptions {
  /** Safe, user-facing detail. Never an internal message. */
  detail?: string;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** Field-level validation errors. */
  errors?: ReadonlyArray<{ field: string; message: string }>;
  /** REAUTHENTICATION_REQUIRED: the allowed age of the authentication, seconds (RFC 9470 max_age). */
  maxAge?: number;
  cause?: unknown;
}

export class AuthError extends Error {
  readonly status: number;
  constructor(readonly code: AuthErrorCode, readonly options: AuthErrorOptions = {}) {
    super(options.detail ?? AUTH_ERROR_CODES[code].title, { cause: options.cause });
    this.name = 'AuthError';
    this.status = AUTH_ERROR_CODES[code].status;
  }
}

export function isAuthError(e: unknown): e is AuthError {
  return e instanceof AuthError;
}

/** Thrown by store adapters when the backing store cannot answer; maps to 503. */
export function storeUnavailable(cause?: unknown): AuthError {
  return new AuthError('STORE_UNAVAILABLE', { retryAfter: 5, cause });
}
