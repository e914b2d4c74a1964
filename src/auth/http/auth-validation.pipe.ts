import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { AuthError } from '../errors/auth-error.model';

function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

function validationFailed(errors: Array<{ field: string; message: string }>): AuthError {
  return new AuthError('VALIDATION_FAILED', { errors: errors.slice(0, 20) });
}

/**
 * Keys that would change what an object is rather than what it holds. ValidationPipe deletes
 * them silently; a body that carries one is refused instead, like any other unknown field.
 */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/**
 * Nest's ValidationPipe, strict: unknown fields are refused (whitelist + forbidNonWhitelisted),
 * the DTO instance is what the handler gets (transform), and a failure is 400 VALIDATION_FAILED
 * with one `{field, message}` per failed rule, never the submitted value (validationError).
 * A body must be a JSON object (or absent: then it validates as `{}`, as ValidationPipe has it).
 */
@Injectable()
export class AuthValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => validationFailed(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // The whole body (`@Body()`), not one of its fields (`@Body('name')`).
    if (metadata.type === 'body' && metadata.data === undefined && value !== undefined && value !== null) {
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw validationFailed([{ field: '', message: 'the body must be a JSON object' }]);
      }
      const present = PROTOTYPE_KEYS.filter((key) => Object.hasOwn(value, key));
      if (present.length > 0) throw validationFailed(present.map((field) => ({ field, message: `property ${field} should not exist` })));
    }
    return super.transform(value, metadata);
  }
}

/** The pipe for `@UsePipes(...)` on controllers and handlers. */
export function authValidationPipe(): AuthValidationPipe {
  return new AuthValidationPipe();
}
