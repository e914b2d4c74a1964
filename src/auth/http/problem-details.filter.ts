import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AUTH_ERROR_CODES, AuthError, AuthErrorCode } from '../errors/auth-error.model';

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: AuthErrorCode;
  detail?: string;
  errors?: ReadonlyArray<{ field: string; message: string }>;
}

/** Maps framework errors (and body-parser's, should a host app mount it) that never pass through our code to stable codes. */
function fromHttpStatus(status: number, err: unknown): AuthError {
  const type = (err as { type?: string } | null)?.type;
  if (type === 'entity.parse.failed') return new AuthError('MALFORMED_JSON');
  if (type === 'entity.too.large' || status === 413) return new AuthError('PAYLOAD_TOO_LARGE');
  if (status === 415 || type === 'charset.unsupported' || type === 'encoding.unsupported') return new AuthError('UNSUPPORTED_MEDIA_TYPE');
  if (status === 404) return new AuthError('NOT_FOUND');
  if (status === 405) return new AuthError('METHOD_NOT_ALLOWED');
  if (status === 403) return new AuthError('FORBIDDEN');
  if (status === 429) return new AuthError('RATE_LIMITED');
  if (status >= 400 && status < 500) return new AuthError('VALIDATION_FAILED');
  return new AuthError('INTERNAL_ERROR');
}

export function toAuthError(exception: unknown): AuthError {
  if (exception instanceof AuthError) return exception;
  if (exception instanceof HttpException) return fromHttpStatus(exception.getStatus(), exception);
  const status = (exception as { status?: unknown; statusCode?: unknown } | null)?.status;
  if (typeof status === 'number') return fromHttpStatus(status, exception);
  return new AuthError('INTERNAL_ERROR');
}

/**
 * Where auth's errors become HTTP: application/problem+json (RFC 9457) with a stable `code`.
 * Internal messages and stacks are logged, never sent. On auth's own controllers
 * (`@UseFilters(ProblemDetailsFilter)`) it answers every error; on the host's routes only
 * AuthErrorFilter applies.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const err = toAuthError(exception);
    if (err.code === 'INTERNAL_ERROR') {
      this.logger.error(exception instanceof Error ? exception.stack ?? exception.message : String(exception));
    } else if (err.code === 'STORE_UNAVAILABLE') {
      const cause = err.options.cause;
      this.logger.warn(`store unavailable: ${cause instanceof Error ? cause.message : String(cause ?? '')}`);
    }
    if (res.headersSent) return;
    const body: ProblemBody = {
      type: `urn:auth-domain:problem:${err.code.toLowerCase().replace(/_/g, '-')}`,
      title: AUTH_ERROR_CODES[err.code].title,
      status: err.status,
      code: err.code,
    };
    if (err.options.detail) body.detail = err.options.detail;
    if (err.options.errors?.length) body.errors = err.options.errors;
    res.status(err.status);
    res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    if (err.options.retryAfter !== undefined) res.setHeader('Retry-After', String(err.options.retryAfter));
    if (err.status === 401) res.setHeader('WWW-Authenticate', wwwAuthenticate(err.code, err.options.maxAge));
    res.end(JSON.stringify(body));
  }
}

function wwwAuthenticate(code: AuthErrorCode, maxAge?: number): string {
  // RFC 9470 (step-up authentication challenge).
  if (code === 'REAUTHENTICATION_REQUIRED') return `Bearer error="insufficient_user_authentication", max_age=${maxAge ?? 0}`;
  if (code === 'ACCESS_TOKEN_MISSING') return 'Bearer';
  // RFC 7662 §2.1: the introspection endpoint authenticates its clients with HTTP Basic.
  if (code === 'CLIENT_UNAUTHORIZED') return 'Basic realm="introspection", charset="UTF-8"';
  if (code === 'ACCESS_TOKEN_INVALID' || code === 'ACCESS_TOKEN_EXPIRED' || code === 'SESSION_REVOKED') {
    return 'Bearer error="invalid_token"';
  }
  return 'Bearer';
}

/**
 * Installed application-wide, but catches only AuthError, which only auth throws: what auth's
 * guards refuse on a host's route (401/403/503) answers in auth's format, and every other
 * exception of the host keeps the host's filters, status codes and messages.
 */
@Catch(AuthError)
export class AuthErrorFilter extends ProblemDetailsFilter {}
