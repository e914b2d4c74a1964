import { claimsOfPayload, claimsSatisfy, MAX_CLAIM_NAMES, MAX_CLAIM_VALUES, NO_CLAIMS, RESERVED_CLAIM_NAMES, validateClaims } from './user-claims.validator';

describe('validateClaims: what a host may put in access tokens', () => {
  it('accepts roles and a tenant, frozen, duplicates dropped; nothing is no claims', () => {
    const c = validateClaims({ roles: ['admin', 'editor', 'admin'], tenant: 'acme-1', plan: undefined });
    expect(c).toEqual({ roles: ['admin', 'editor'], tenant: 'acme-1' });
    expect(Object.isFrozen(c) && Object.isFrozen(c.roles)).toBe(true);
    expect(validateClaims(null)).toBe(NO_CLAIMS);
    expect(validateClaims(undefined)).toBe(NO_CLAIMS);
    expect(validateClaims({})).toBe(NO_CLAIMS);
  });

  it.each([...RESERVED_CLAIM_NAMES])('refuses the reserved name %s', (name) => {
    expect(() => validateClaims({ [name]: 'x' })).toThrow(`claim name "${name}" is reserved`);
  });

  it.each([
    ['too many names', Object.fromEntries(Array.from({ length: MAX_CLAIM_NAMES + 1 }, (_, i) => [`c${i}`, 'x'])), `at most ${MAX_CLAIM_NAMES} claims`],
    ['an upper-case name', { Roles: ['admin'] }, 'claim name "Roles" must match'],
    ['a name with a dash', { 'x-tenant': 'a' }, 'claim name "x-tenant" must match'],
    ['a 33-character name', { ['a'.repeat(33)]: 'x' }, 'must match'],
    ['an empty value', { tenant: '' }, 'claim "tenant": a value must match'],
    ['a 65-character value', { tenant: 'a'.repeat(65) }, 'claim "tenant": a value must match'],
    ['a value with a space', { tenant: 'acme corp' }, 'claim "tenant": a value must match'],
    ['a non-ASCII value', { tenant: 'acmé' }, 'claim "tenant": a value must match'],
    ['too many values', { roles: Array.from({ length: MAX_CLAIM_VALUES + 1 }, (_, i) => `r${i}`) }, `at most ${MAX_CLAIM_VALUES} values`],
    ['a number in a list', { roles: ['admin', 1] }, 'claim "roles": every value must match'],
    ['a number', { level: 3 }, 'claim "level" must be a string or a list of strings'],
    ['an object', { nested: { a: 'b' } }, 'claim "nested" must be a string or a list of strings'],
  ])('refuses %s', (_name, input, message) => {
    expect(() => validateClaims(input)).toThrow(message);
  });

  it('refuses what is not an object of claims', () => {
    expect(() => validateClaims(['admin'])).toThrow('claimsFor must return an object of claims');
    expect(() => validateClaims('admin')).toThrow('claimsFor must return an object of claims');
  });
});

describe('claimsOfPayload and claimsSatisfy', () => {
  it("reads a token's extra claims, never ours", () => {
    const payload = { iss: 'i', sub: 'u', sid: 's', exp: 1, auth_time: 1, client_id: 'c', roles: ['admin'], tenant: 'acme', n: 1 };
    expect(claimsOfPayload(payload)).toEqual({ roles: ['admin'], tenant: 'acme' });
    expect(claimsOfPayload({ sub: 'u' })).toBe(NO_CLAIMS);
  });

  it('a string requirement needs an equal value or a list holding it; a list needs all its values', () => {
    const c = { roles: ['admin', 'editor'], tenant: 'acme' };
    expect(claimsSatisfy(c, { roles: 'admin' })).toBe(true);
    expect(claimsSatisfy(c, { roles: ['admin', 'editor'], tenant: 'acme' })).toBe(true);
    expect(claimsSatisfy(c, { roles: ['admin', 'owner'] })).toBe(false);
    expect(claimsSatisfy(c, { tenant: 'other' })).toBe(false);
    expect(claimsSatisfy(c, { tenant: ['acme'] })).toBe(true);
    expect(claimsSatisfy(c, { plan: 'pro' })).toBe(false);
    expect(claimsSatisfy(NO_CLAIMS, { roles: 'admin' })).toBe(false);
  });
});
