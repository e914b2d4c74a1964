import type { ArgumentMetadata } from '@nestjs/common';
import { IsString, MaxLength, Validate, ValidateNested, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { authValidationPipe, referenceValidationPipe } from './auth-validation.pipe';
import { BrowserLoginDto, ChangePasswordDto, LoginDto, RefreshDto, RegisterDto } from './auth.dto';
import { AuthError } from '../errors/auth-error.model';

type Outcome = { ok: true; value: unknown; type: unknown } | { ok: false; code: string; fields: string[]; messages: string[] };

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    const value = await run();
    return { ok: true, value: JSON.parse(JSON.stringify(value ?? null)), type: (value as object | null)?.constructor };
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    const errors = (e.options.errors ?? []) as Array<{ field: string; message: string }>;
    return { ok: false, code: e.code, fields: errors.map((x) => x.field), messages: errors.map((x) => x.message) };
  }
}

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

describe('AuthValidationPipe', () => {
  const fast = authValidationPipe();
  const reference = referenceValidationPipe();

  const cases: Array<[string, ArgumentMetadata['metatype'], unknown]> = [
    ['refresh: token', RefreshDto, { refreshToken: 'a.b.c.d' }],
    ['refresh: empty object', RefreshDto, {}],
    ['refresh: no body', RefreshDto, undefined],
    ['refresh: overlong token', RefreshDto, { refreshToken: 'r'.repeat(301) }],
    ['refresh: 300 characters', RefreshDto, { refreshToken: 'r'.repeat(300) }],
    ['refresh: number', RefreshDto, { refreshToken: 12345 }],
    ['refresh: null token', RefreshDto, { refreshToken: null }],
    ['refresh: unknown field', RefreshDto, { refreshToken: 'x', extra: 1 }],
    ['login: good', LoginDto, { email: 'a@example.com', password: 'pw', refreshTokenDelivery: 'body' }],
    ['login: missing password', LoginDto, { email: 'a@example.com' }],
    ['login: password array', LoginDto, { email: 'a@example.com', password: ['pw'] }],
    ['login: password object', LoginDto, { email: 'a@example.com', password: { $ne: '' } }],
    ['login: unknown delivery', LoginDto, { email: 'a@example.com', password: 'pw', refreshTokenDelivery: 'sms' }],
    ['login: several errors', LoginDto, { email: 42, password: 'p'.repeat(1025), admin: true }],
    ['login: unknown fields first, in body order', LoginDto, { zz: 1, email: 'a@example.com', aa: 2, password: 7, refreshTokenDelivery: 3 }],
    ['login: null delivery is no delivery', LoginDto, { email: 'a@example.com', password: 'pw', refreshTokenDelivery: null }],
    ['login: 254 vs 255 characters', LoginDto, { email: 'e'.repeat(255), password: 'p'.repeat(1024) }],
    ['login: astral characters count once', LoginDto, { email: '\u{1F600}'.repeat(254), password: 'pw' }],
    ['browser login: everything missing', BrowserLoginDto, {}],
    ['register: good', RegisterDto, { email: 'New@Example.com', password: 'long enough password' }],
    ['register: not an email', RegisterDto, { email: 'nope', password: 'x' }],
    ['register: email null', RegisterDto, { email: null, password: 'x' }],
    ['password change: good', ChangePasswordDto, { currentPassword: 'a', newPassword: 'b' }],
    ['password change: empty', ChangePasswordDto, {}],
  ];

  it.each(cases)('%s: same outcome as Nest ValidationPipe', async (_what, metatype, value) => {
    const ours = await outcome(() => fast.transform(value, body(metatype)));
    const theirs = await outcome(() => reference.transform(value, body(metatype)));
    expect(ours).toEqual(theirs);
  });

  it('returns an instance of the DTO holding exactly the submitted fields', () => {
    const out = fast.transform({ email: 'a@example.com', password: 'pw' }, body(LoginDto));
    expect(out).toBeInstanceOf(LoginDto);
    expect({ ...(out as object) }).toEqual({ email: 'a@example.com', password: 'pw' });
  });

  it.each([
    ['__proto__', '{"__proto__": {"polluted": true}, "refreshToken": "x"}'],
    ['constructor', '{"constructor": 1, "refreshToken": "x"}'],
    ['prototype', '{"prototype": {}, "refreshToken": "x"}'],
  ])('refuses a %s key, without touching any prototype', async (key, json) => {
    const result = await outcome(() => fast.transform(JSON.parse(json), body(RefreshDto)));
    expect(result).toEqual({ ok: false, code: 'VALIDATION_FAILED', fields: [key], messages: [`property ${key} should not exist`] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(new RefreshDto())).toBe(RefreshDto.prototype);
  });

  it.each([
    ['an array', [{ refreshToken: 'x' }]],
    ['a string', 'x'],
    ['a number', 42],
  ])('refuses %s where a JSON object is expected', async (_what, value) => {
    expect(await outcome(() => fast.transform(value, body(RefreshDto)))).toEqual({
      ok: false,
      code: 'VALIDATION_FAILED',
      fields: [''],
      messages: ['the body must be a JSON object'],
    });
  });

  describe('what the fast path does not assume: handed to ValidationPipe', () => {
    class Inner {
      @IsString() name!: string;
    }
    class Nested {
      @ValidateNested() inner!: Inner;
    }
    @ValidatorConstraint({ async: true })
    class Slow implements ValidatorConstraintInterface {
      async validate(v: unknown): Promise<boolean> {
        return v === 'ok';
      }
    }
    class WithAsync {
      @MaxLength(5) @Validate(Slow) code!: string;
    }

    it('an asynchronous rule is enforced', async () => {
      const bad = await outcome(() => fast.transform({ code: 'nope' }, body(WithAsync)));
      expect(bad.ok).toBe(false);
      expect((await outcome(() => fast.transform({ code: 'ok' }, body(WithAsync)))).ok).toBe(true);
    });

    it('a nested DTO is validated as nested', async () => {
      const ours = await outcome(() => fast.transform({ inner: { name: 1 } }, body(Nested)));
      const theirs = await outcome(() => reference.transform({ inner: { name: 1 } }, body(Nested)));
      expect(ours).toEqual(theirs);
      expect(ours.ok).toBe(false);
    });

    it('route params and custom decorators are left as ValidationPipe leaves them', async () => {
      expect(await fast.transform('abc', { type: 'param', metatype: String, data: 'id' })).toBe('abc');
      const principal = { sub: 'u' };
      expect(await fast.transform(principal, { type: 'custom', metatype: Object, data: undefined })).toBe(principal);
    });
  });
});
