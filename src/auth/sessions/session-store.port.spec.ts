import { createHash, randomBytes } from 'node:crypto';
import { sameSecretHash } from './session-store.port';

describe('sameSecretHash', () => {
  const presented = createHash('sha256').update(randomBytes(32)).digest();

  it('matches the full hash and any prefix of at least 128 bits', () => {
    expect(sameSecretHash(Buffer.from(presented), presented)).toBe(true);
    expect(sameSecretHash(presented.subarray(0, 16), presented)).toBe(true);
    expect(sameSecretHash(presented.subarray(0, 20), presented)).toBe(true);
  });

  it('refuses another hash, a prefix shorter than 128 bits, a longer value and nothing', () => {
    const other = createHash('sha256').update(randomBytes(32)).digest();
    expect(sameSecretHash(other, presented)).toBe(false);
    expect(sameSecretHash(other.subarray(0, 16), presented)).toBe(false);
    expect(sameSecretHash(presented.subarray(0, 15), presented)).toBe(false);
    expect(sameSecretHash(Buffer.alloc(0), presented)).toBe(false);
    expect(sameSecretHash(Buffer.concat([presented, Buffer.from([0])]), presented)).toBe(false);
    expect(sameSecretHash(null, presented)).toBe(false);
  });
});
