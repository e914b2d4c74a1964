import { createRecoveryToken, MAX_RECOVERY_TOKEN_LENGTH, parseRecoveryToken, recoveryTokenHash, sameRecoveryHash } from './recovery-token.codec';

describe('recovery token codec', () => {
  it('carries the user id and 256 random bits, URL-safe', () => {
    const a = createRecoveryToken('3f0c8a52-5a7e-4c1e-9f51-0d6a1c2b3e4f');
    const b = createRecoveryToken('3f0c8a52-5a7e-4c1e-9f51-0d6a1c2b3e4f');
    expect(a.token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(a.token.length).toBeLessThanOrEqual(MAX_RECOVERY_TOKEN_LENGTH);
    expect(a.secret).toHaveLength(32);
    expect(a.secret.equals(b.secret)).toBe(false);
    expect(parseRecoveryToken(a.token)).toEqual({ userId: '3f0c8a52-5a7e-4c1e-9f51-0d6a1c2b3e4f', secret: a.secret });
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['no separator', 'abc'],
    ['a short secret', `${Buffer.from('u').toString('base64url')}.${'A'.repeat(42)}`],
    ['a long secret', `${Buffer.from('u').toString('base64url')}.${'A'.repeat(44)}`],
    ['a user id with control characters', `${Buffer.from('u\n').toString('base64url')}.${'A'.repeat(43)}`],
    ['a user id with a hash-tag brace', `${Buffer.from('u}x').toString('base64url')}.${'A'.repeat(43)}`],
    ['an overlong text', `${'A'.repeat(300)}.${'A'.repeat(43)}`],
  ])('refuses %s', (_what, token) => {
    expect(parseRecoveryToken(token)).toBeNull();
  });

  it('the stored hash depends on the purpose, the binding and the secret', () => {
    const { secret } = createRecoveryToken('u');
    const h = recoveryTokenHash('reset-password', 'stamp-1', secret);
    expect(h).toHaveLength(32);
    expect(sameRecoveryHash(h, recoveryTokenHash('reset-password', 'stamp-1', Buffer.from(secret)))).toBe(true);
    expect(sameRecoveryHash(h, recoveryTokenHash('verify-email', 'stamp-1', secret))).toBe(false);
    expect(sameRecoveryHash(h, recoveryTokenHash('reset-password', 'stamp-2', secret))).toBe(false);
    expect(sameRecoveryHash(h, recoveryTokenHash('reset-password', 'stamp-1', createRecoveryToken('u').secret))).toBe(false);
    expect(sameRecoveryHash(h, h.subarray(0, 16))).toBe(false);
  });
});
