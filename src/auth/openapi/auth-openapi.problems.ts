import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { AUTH_ERROR_CODES, type AuthErrorCode } from '../errors/auth-error.model';
import { ProblemDetailsModel } from './auth-openapi.models';

export const PROBLEM_JSON = 'application/problem+json';

/** A JSON body went through JsonBodyInterceptor and the validation pipe. */
const BODY: readonly AuthErrorCode[] = ['VALIDATION_FAILED', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'];
/** AuthenticationGuard: a bearer token, or else the browser-session cookie. */
const AUTHENTICATED: readonly AuthErrorCode[] = [
  'ACCESS_TOKEN_MISSING',
  'ACCESS_TOKEN_INVALID',
  'ACCESS_TOKEN_EXPIRED',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'SESSION_COOKIE_INVALID',
  'STORE_UNAVAILABLE',
];
/** An unsafe method with the session cookie: X-CSRF-Token and the origin checks. */
const CSRF: readonly AuthErrorCode[] = ['CSRF_TOKEN_INVALID'];
/** @RequireRecentAuth(). */
const RECENT: readonly AuthErrorCode[] = ['REAUTHENTICATION_REQUIRED'];
/** A rate limiter backed by the store. */
const LIMITED: readonly AuthErrorCode[] = ['RATE_LIMITED', 'STORE_UNAVAILABLE'];
/** Whatever the route, an unexpected failure. */
const ANY: readonly AuthErrorCode[] = ['INTERNAL_ERROR'];

/**
 * The error codes each auth operation can answer, in one place: the `@ApiProblems(key)` of each
 * handler reads its row, and test/docs checks that every operation of the document has its row.
 * Keys are the method and the path as in AUTH_ROUTES. METHOD_NOT_ALLOWED (another method on a
 * known path) belongs to no operation.
 */
export const OPERATION_PROBLEMS = {
  'POST auth/register': [...BODY, ...LIMITED, 'EMAIL_TAKEN', 'PASSWORD_REJECTED', ...ANY],
  'POST auth/login': [...BODY, ...LIMITED, 'INVALID_CREDENTIALS', 'EMAIL_NOT_VERIFIED', ...ANY],
  'POST auth/refresh': [
    ...BODY,
    ...LIMITED,
    'REFRESH_TOKEN_MISSING',
    'REFRESH_TOKEN_INVALID',
    'REFRESH_TOKEN_REUSED',
    'DEVICE_MISMATCH',
    'SESSION_EXPIRED',
    ...CSRF,
    ...ANY,
  ],
  'POST auth/logout': [
    ...BODY,
    'ACCESS_TOKEN_MISSING',
    'ACCESS_TOKEN_INVALID',
    'ACCESS_TOKEN_EXPIRED',
    'REFRESH_TOKEN_INVALID',
    'REFRESH_TOKEN_REUSED',
    ...CSRF,
    'STORE_UNAVAILABLE',
    ...ANY,
  ],
  'POST auth/logout-all': [...AUTHENTICATED, ...CSRF, ...RECENT, ...ANY],
  'POST auth/password': [...BODY, ...AUTHENTICATED, ...CSRF, ...RECENT, ...LIMITED, 'INVALID_CREDENTIALS', 'PASSWORD_REJECTED', ...ANY],
  'POST auth/password/forgot': [...BODY, ...LIMITED, ...ANY],
  'POST auth/password/reset': [...BODY, ...LIMITED, 'RECOVERY_TOKEN_INVALID', 'PASSWORD_REJECTED', ...ANY],
  'POST auth/email/verify': [...BODY, ...LIMITED, 'RECOVERY_TOKEN_INVALID', ...ANY],
  'POST auth/email/verify/resend': [...BODY, ...LIMITED, ...ANY],
  'GET auth/me': [...AUTHENTICATED, ...ANY],
  'POST auth/introspect': ['CLIENT_UNAUTHORIZED', ...LIMITED, 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'VALIDATION_FAILED', ...ANY],
  'GET auth/sessions': [...AUTHENTICATED, ...ANY],
  'DELETE auth/sessions/:id': [...AUTHENTICATED, ...CSRF, 'SESSION_NOT_FOUND', ...ANY],
  'POST auth/browser/login': [...BODY, ...LIMITED, ...CSRF, 'INVALID_CREDENTIALS', 'EMAIL_NOT_VERIFIED', ...ANY],
  'GET auth/browser/session': [...AUTHENTICATED, ...ANY],
  'GET .well-known/jwks.json': [...ANY],
  'GET signin': [...ANY],
  'GET signin/app.js': [...ANY],
  'GET signin/auth-client.js': [...ANY],
  'GET signin/app.css': [...ANY],
  'GET metrics': [...ANY],
} as const satisfies Record<string, readonly AuthErrorCode[]>;

export type AuthOperation = keyof typeof OPERATION_PROBLEMS;

/** The codes of an operation, each once, grouped by their status (ascending). */
export function problemsByStatus(codes: readonly AuthErrorCode[]): Map<number, AuthErrorCode[]> {
  const byStatus = new Map<number, AuthErrorCode[]>();
  for (const code of new Set(codes)) {
    const { status } = AUTH_ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

/**
 * One `application/problem+json` response per status the operation's codes map to (statuses from
 * the error catalogue, AUTH_ERROR_CODES): the ProblemDetails schema with `code` narrowed to those
 * codes, which the description lists with their titles.
 */
export function ApiProblems(operation: AuthOperation): MethodDecorator {
  const responses = [...problemsByStatus(OPERATION_PROBLEMS[operation])].map(([status, codes]) =>
    ApiResponse({
      status,
      description: codes.map((c) => `\`${c}\`: ${AUTH_ERROR_CODES[c].title}`).join('; '),
      content: {
        [PROBLEM_JSON]: {
          schema: { allOf: [{ $ref: getSchemaPath(ProblemDetailsModel) }, { type: 'object', properties: { code: { type: 'string', enum: codes } } }] },
        },
      },
    }),
  );
  return applyDecorators(ApiExtraModels(ProblemDetailsModel), ...responses);
}
