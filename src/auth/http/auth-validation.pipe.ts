import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { getMetadataStorage, isIn, isString, maxLength, minLength } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { AuthError } from '../errors/auth-error.model';

function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; message: string }> {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

function validationFailed(errors: ValidationError[]): AuthError {
  return new AuthError('VALIDATION_FAILED', { errors: flatten(errors).slice(0, 20) });
}

/** Keys that would change what the instance is rather than what it holds. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Strict body validation: unknown fields are rejected, failures become 400 VALIDATION_FAILED
 * with field-level messages (never echoing the submitted values).
 *
 * A JSON body for a class-validator DTO is checked on an instance the fields are copied onto, with
 * the same rules and messages as Nest's ValidationPipe (whitelist, forbidNonWhitelisted,
 * transform) but without its class-transformer pass, executor and promise hops: DTOs that use only
 * IsString/MaxLength/MinLength/IsIn/IsOptional run class-validator's own check functions directly
 * (RefreshDto, LoginDto: ~0.3 µs per body); anything else (other rules, params, queries, custom
 * decorators) goes to ValidationPipe itself (~4.4 µs, measured). A parity test runs both over the
 * same inputs.
 */
@Injectable()
export class AuthValidationPipe implements PipeTransform {
  private readonly general: ValidationPipe;
  /** Per DTO class: its compiled rules, or 'general' for ValidationPipe. */
  private readonly plans = new WeakMap<object, Plan>();

  constructor() {
    this.general = new ValidationPipe(authValidationPipeOptions());
  }

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype as DtoClass | undefined;
    const plan = metadata.type === 'body' && metatype ? this.planFor(metatype) : 'general';
    if (plan === 'general') return this.general.transform(value, metadata);
    // No body at all validates as an empty object, as ValidationPipe has it (all-optional DTOs pass).
    const plain = value ?? {};
    if (typeof plain !== 'object' || Array.isArray(plain)) {
      throw new AuthError('VALIDATION_FAILED', { errors: [{ field: '', message: 'the body must be a JSON object' }] });
    }
    const entity = new (metatype as DtoClass)() as Record<string, unknown>;
    const unsafe: ValidationError[] = [];
    for (const key of Object.keys(plain)) {
      if (UNSAFE_KEYS.has(key)) unsafe.push(notAllowed(key));
      else entity[key] = (plain as Record<string, unknown>)[key];
    }
    const errors = runCompiled(plan, entity, unsafe);
    if (errors.length > 0) throw validationFailed(errors);
    return entity;
  }

  private planFor(metatype: DtoClass): Plan {
    let plan = this.plans.get(metatype);
    if (plan === undefined) this.plans.set(metatype, (plan = planFor(metatype)));
    return plan;
  }
}

type DtoClass = new () => object;

interface CompiledRule {
  readonly name: string;
  readonly test: (value: unknown) => boolean;
  readonly message: string;
}

interface CompiledProperty {
  readonly name: string;
  readonly optional: boolean;
  readonly rules: readonly CompiledRule[];
}

type Plan = { readonly properties: readonly CompiledProperty[]; readonly allowed: ReadonlySet<string> } | 'general';

/**
 * class-validator's own checks for the rules our body DTOs use, with its default messages: run
 * directly, without its executor (metadata grouping, message templating and error objects per
 * property on every call). The same functions decide; a parity test holds messages and order to
 * what ValidationPipe answers. Keyed by class-validator's rule names: a custom rule registered
 * under one of these names (ValidateBy({ name: 'isString' })) would be read as the built-in one.
 */
const COMPILABLE: Record<string, (c: readonly unknown[], property: string) => Omit<CompiledRule, 'name'>> = {
  isString: (_c, p) => ({ test: (v) => isString(v), message: `${p} must be a string` }),
  maxLength: (c, p) => ({ test: (v) => maxLength(v, c[0] as number), message: `${p} must be shorter than or equal to ${String(c[0])} characters` }),
  minLength: (c, p) => ({ test: (v) => minLength(v, c[0] as number), message: `${p} must be longer than or equal to ${String(c[0])} characters` }),
  isIn: (c, p) => ({
    test: (v) => isIn(v, c[0] as readonly unknown[]),
    message: `${p} must be one of the following values: ${(c[0] as readonly unknown[]).map(String).join(', ')}`,
  }),
};

/**
 * How a DTO class is validated: compiled when every rule is one of the above, plain (no groups,
 * `each`, custom messages or contexts) or IsOptional; else the general ValidationPipe (other or
 * custom rules, nested DTOs, async rules, a class without rules).
 */
function planFor(metatype: DtoClass): Plan {
  const rules: ValidationMetadata[] = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
  if (rules.length === 0) return 'general';
  const byProperty = new Map<string, { optional: boolean; rules: CompiledRule[] }>();
  for (const r of rules) {
    if (r.each || r.always || (r.groups?.length ?? 0) > 0 || r.message !== undefined || r.context !== undefined) return 'general';
    let p = byProperty.get(r.propertyName);
    if (!p) byProperty.set(r.propertyName, (p = { optional: false, rules: [] }));
    if (r.type === 'conditionalValidation' && r.name === 'isOptional') p.optional = true;
    else if (r.type === 'customValidation' && r.name !== undefined && COMPILABLE[r.name]) p.rules.push({ name: r.name, ...COMPILABLE[r.name](r.constraints ?? [], r.propertyName) });
    else return 'general';
  }
  const properties = [...byProperty].map(([name, p]) => ({ name, optional: p.optional, rules: p.rules }));
  return { properties, allowed: new Set(byProperty.keys()) };
}

/** What class-validator would answer: unknown fields first (in the body's order), then each property's failed rules. */
function runCompiled(plan: Exclude<Plan, 'general'>, entity: Record<string, unknown>, unsafe: ValidationError[]): ValidationError[] {
  const errors = unsafe;
  for (const key of Object.keys(entity)) if (!plan.allowed.has(key)) errors.push(notAllowed(key));
  for (const p of plan.properties) {
    const value = entity[p.name];
    if (p.optional && (value === undefined || value === null)) continue;
    let constraints: Record<string, string> | undefined;
    for (const r of p.rules) if (!r.test(value)) (constraints ??= {})[r.name] = r.message;
    if (constraints) errors.push({ property: p.name, constraints, children: [] });
  }
  return errors;
}

function notAllowed(property: string): ValidationError {
  return { property, constraints: { whitelistValidation: `property ${property} should not exist` }, children: [] };
}

function authValidationPipeOptions(): ValidationPipeOptions {
  return {
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: validationFailed,
  };
}

/** The pipe for `@UsePipes(...)` on controllers and handlers. */
export function authValidationPipe(): AuthValidationPipe {
  return new AuthValidationPipe();
}

/** Nest's own ValidationPipe with the same options: what AuthValidationPipe must agree with (parity test). */
export function referenceValidationPipe(): ValidationPipe {
  return new ValidationPipe(authValidationPipeOptions());
}
