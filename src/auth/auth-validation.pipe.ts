import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AuthError } from './errors/auth-error.model';

function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/**
 * Strict body validation: unknown fields are rejected, failures become 400 VALIDATION_FAILED
 * with field-level messages (never echoing the submitted values).
 */
export function authValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new AuthError('VALIDATION_FAILED', { errors: flatten(errors).slice(0, 20) }),
  });
}
