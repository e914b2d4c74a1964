import type { ArgumentMetadata } from '@nestjs/common';
import { authValidationPipe } from './auth-validation.pipe';
import { ChangePasswordDto, LoginDto, RefreshDto, RegisterDto } from './auth.dto';
import { AuthError } from '../errors/auth-error.model';

type Failure = { status: number; code: string; errors: Array<{ field: string; message: string }> };

/** The AuthError a validation throws, as the client would read it. */
async function failure(run: () => unknown): Promise<Failure> {
  try {
    await run();
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    return { status: e.status, code: e.code, errors: (e.options.errors ?? []) as Failure['errors'] };
  }
  throw new Error('expected a validation failure');
}

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

describe('authValidationPipe', () => {
  const pipe = authValidationPipe();

  it('returns an instance of the DTO holding exactly the submitted fields', async () => {
    const out = await pipe.transform({ email: 'a@example.com', password: 'pw' }, body(LoginDto));
    expect(out).toBeInstanceOf(LoginDto);
    expect({ ...(out as object) }).toEqual({ email: 'a@example.com', password: 'pw' });
  });

  it('lets an all-optional DTO through without a body', async () => {
    expect(await pipe.transform(undefined, body(RefreshDto))).toBeInstanceOf(RefreshDto);
  });

  it('refuses unknown fields with 400 VALIDATION_FAILED, one error per field', async () => {
    expect(await failure(() => pipe.transform({ refreshToken: 'x', extra: 1, admin: true }, body(RefreshDto)))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [
        { field: 'extra', message: 'property extra should not exist' },
        { field: 'admin', message: 'property admin should not exist' },
      ],
    });
  });

  it('names the field and the rule, never the submitted value', async () => {
    const secret = 'p'.repeat(1025);
    const result = await failure(() => pipe.transform({ email: 42, password: secret }, body(LoginDto)));
    expect(result.code).toBe('VALIDATION_FAILED');
    expect(result.errors).toEqual(
      expect.arrayContaining([
        { field: 'email', message: 'email must be a string' },
        { field: 'password', message: 'password must be shorter than or equal to 1024 characters' },
      ]),
    );
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(JSON.stringify(result)).not.toContain('42');
  });

  it.each([
    ['a password that is not a string', LoginDto, { email: 'a@example.com', password: { $ne: '' } }, 'password'],
    ['an unknown delivery', LoginDto, { email: 'a@example.com', password: 'pw', refreshTokenDelivery: 'sms' }, 'refreshTokenDelivery'],
    ['an overlong refresh token', RefreshDto, { refreshToken: 'r'.repeat(301) }, 'refreshToken'],
    ['a missing field', ChangePasswordDto, { currentPassword: 'a' }, 'newPassword'],
    ['an address without a domain (custom rule)', RegisterDto, { email: 'nope@x', password: 'long enough password' }, 'email'],
  ])('refuses %s', async (_what, metatype, value, field) => {
    const result = await failure(() => pipe.transform(value, body(metatype)));
    expect(result.code).toBe('VALIDATION_FAILED');
    expect(result.errors.map((e) => e.field)).toContain(field);
  });

  it.each([
    ['__proto__', '{"__proto__": {"polluted": true}, "refreshToken": "x"}'],
    ['constructor', '{"constructor": 1, "refreshToken": "x"}'],
    ['prototype', '{"prototype": {}, "refreshToken": "x"}'],
  ])('refuses a %s key, without touching any prototype', async (key, json) => {
    expect(await failure(() => pipe.transform(JSON.parse(json), body(RefreshDto)))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ field: key, message: `property ${key} should not exist` }],
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(new RefreshDto())).toBe(RefreshDto.prototype);
  });

  it.each([
    ['an array', [{ refreshToken: 'x' }]],
    ['a string', 'x'],
    ['a number', 42],
  ])('refuses %s where a JSON object is expected', async (_what, value) => {
    expect(await failure(() => pipe.transform(value, body(RefreshDto)))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      errors: [{ field: '', message: 'the body must be a JSON object' }],
    });
  });

  it('leaves route params and custom decorators as ValidationPipe leaves them', async () => {
    expect(await pipe.transform('abc', { type: 'param', metatype: String, data: 'id' })).toBe('abc');
    const principal = { sub: 'u' };
    expect(await pipe.transform(principal, { type: 'custom', metatype: Object, data: undefined })).toBe(principal);
  });
});
