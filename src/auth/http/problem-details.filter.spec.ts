import { ArgumentsHost, BadRequestException, HttpException, Logger, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { AUTH_ERROR_CODES, AuthError, AuthErrorCode, storeUnavailable } from '../errors/auth-error.model';
import { ProblemDetailsFilter, toAuthError } from './problem-details.filter';

interface Captured {
  status?: number;
  headers: Record<string, string>;
  body?: string;
  ended: boolean;
}

function fakeHost(headersSent = false): { host: ArgumentsHost; out: Captured } {
  const out: Captured = { headers: {}, ended: false };
  const res = {
    headersSent,
    status(code: number) {
      out.status = code;
      return res;
    },
    setHeader(name: string, value: string) {
      out.headers[name.toLowerCase()] = value;
      return res;
    },
    end(body?: string) {
      out.body = body;
      out.ended = true;
      return res;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({}) }) } as unknown as ArgumentsHost;
  return { host, out };
}

function render(exception: unknown): Captured & { json: Record<string, unknown> } {
  const { host, out } = fakeHost();
  new ProblemDetailsFilter().catch(exception, host);
  return { ...out, json: JSON.parse(out.body ?? 'null') as Record<string, unknown> };
}

describe('ProblemDetailsFilter', () => {
  let logged: jest.SpyInstance[];

  beforeEach(() => {
    logged = [jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined), jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined)];
  });

  afterEach(() => {
    for (const s of logged) s.mockRestore();
  });

  it.each(Object.keys(AUTH_ERROR_CODES) as AuthErrorCode[])('%s: problem+json with its status, title and a stable type', (code) => {
    const r = render(new AuthError(code));
    expect(r.status).toBe(AUTH_ERROR_CODES[code].status);
    expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json).toEqual({
      type: `urn:auth-domain:problem:${code.toLowerCase().replace(/_/g, '-')}`,
      title: AUTH_ERROR_CODES[code].title,
      status: AUTH_ERROR_CODES[code].status,
      code,
    });
  });

  it('STORE_UNAVAILABLE is 503 with Retry-After, and does not leak its cause', () => {
    const r = render(storeUnavailable(new Error('connect ECONNREFUSED 10.0.0.7:6379')));
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.body).not.toContain('ECONNREFUSED');
    expect(r.body).not.toContain('10.0.0.7');
  });

  it('401s carry WWW-Authenticate; token problems say invalid_token', () => {
    expect(render(new AuthError('ACCESS_TOKEN_MISSING')).headers['www-authenticate']).toBe('Bearer');
    for (const code of ['ACCESS_TOKEN_INVALID', 'ACCESS_TOKEN_EXPIRED', 'SESSION_REVOKED'] as const) {
      expect(render(new AuthError(code)).headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    }
    expect(render(new AuthError('FORBIDDEN')).headers['www-authenticate']).toBeUndefined();
  });

  it('passes on a safe detail and field errors', () => {
    const r = render(new AuthError('VALIDATION_FAILED', { detail: 'email is required', errors: [{ field: 'email', message: 'is required' }] }));
    expect(r.json).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'email is required', errors: [{ field: 'email', message: 'is required' }] });
  });

  it('an unknown error is INTERNAL_ERROR: logged, never sent (no message, no stack)', () => {
    const boom = new Error('password column missing in users table');
    const r = render(boom);
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(r.body).not.toContain('password column');
    expect(r.body).not.toContain('at ');
    expect(logged[0]).toHaveBeenCalled();
    expect(render('a string').json).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(render(null).json).toMatchObject({ code: 'INTERNAL_ERROR' });
  });

  it('framework and body-parser errors get stable codes', () => {
    const cases: Array<[unknown, AuthErrorCode]> = [
      [new NotFoundException('Cannot GET /secret-path'), 'NOT_FOUND'],
      [new HttpException('x', 405), 'METHOD_NOT_ALLOWED'],
      [new HttpException('x', 403), 'FORBIDDEN'],
      [new HttpException('x', 429), 'RATE_LIMITED'],
      [new PayloadTooLargeException(), 'PAYLOAD_TOO_LARGE'],
      [new BadRequestException('something'), 'VALIDATION_FAILED'],
      [new HttpException('x', 502), 'INTERNAL_ERROR'],
      [Object.assign(new SyntaxError('Unexpected token'), { status: 400, type: 'entity.parse.failed' }), 'MALFORMED_JSON'],
      [Object.assign(new Error('too large'), { status: 413, type: 'entity.too.large' }), 'PAYLOAD_TOO_LARGE'],
      [Object.assign(new Error('bad charset'), { status: 415, type: 'charset.unsupported' }), 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [exception, code] of cases) {
      expect(toAuthError(exception).code).toBe(code);
      const r = render(exception);
      expect(r.json.code).toBe(code);
      expect(r.status).toBe(AUTH_ERROR_CODES[code].status);
    }
    expect(render(new NotFoundException('Cannot GET /secret-path')).body).not.toContain('secret-path');
  });

  it('writes nothing when the response has already started', () => {
    const { host, out } = fakeHost(true);
    new ProblemDetailsFilter().catch(new AuthError('ACCESS_TOKEN_INVALID'), host);
    expect(out).toEqual({ headers: {}, ended: false });
  });
});
