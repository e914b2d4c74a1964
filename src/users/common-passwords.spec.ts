import { COMMON_PASSWORDS } from './common-passwords';
import { passwordPolicyViolation, preparePassword } from './password-policy';

describe('the common-password blocklist', () => {
  it('is tens of thousands of entries, all 8-64 characters and lower case', () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThan(30_000);
    expect(COMMON_PASSWORDS.size).toBeLessThan(100_000);
    for (const p of COMMON_PASSWORDS) {
      if (p.length < 8 || p.length > 64 || p !== p.toLowerCase()) throw new Error(`bad entry ${JSON.stringify(p)}`);
    }
  });

  it.each(['password1', 'P@ssw0rd', 'Qwerty123!', 'iloveyou2012', 'football!', 'Liverpool1', 'dragon1990', '12345678', '11111111', '1q2w3e4r5t', 'monkeymonkey', 'sunshine!'])(
    'refuses %s',
    (p) => {
      const prepared = preparePassword(p);
      expect(prepared.ok && passwordPolicyViolation(prepared.value, 'someone@example.com')).toMatch(/too common/);
    },
  );

  it.each(['correct horse battery staple 42', 'another fine passphrase', 'lmqxvrtz', 'orange-river'])('accepts %s', (p) => {
    const prepared = preparePassword(p);
    expect(prepared.ok && passwordPolicyViolation(prepared.value, 'someone@example.com')).toBeNull();
  });
});
