import { createHmac, randomBytes } from 'node:crypto';
import { HmacSha256 } from './hmac-sha256.helper';

describe('HmacSha256', () => {
  // RFC 4231 section 4 (test case 5, a truncated output, is covered by the comparison below).
  it.each([
    ['1', Buffer.alloc(20, 0x0b), Buffer.from('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['2', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    ['3', Buffer.alloc(20, 0xaa), Buffer.alloc(50, 0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
    [
      '4',
      Buffer.from(Array.from({ length: 25 }, (_, i) => i + 1)),
      Buffer.alloc(50, 0xcd),
      '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
    ],
    [
      '6 (key longer than a block)',
      Buffer.alloc(131, 0xaa),
      Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    ],
    [
      '7 (key and data longer than a block)',
      Buffer.alloc(131, 0xaa),
      Buffer.from(
        'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
      ),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ])('RFC 4231 test case %s', (_name, key, data, expected) => {
    const mac = new HmacSha256(key);
    expect(mac.hex(data)).toBe(expected);
    expect(mac.digest(data).toString('hex')).toBe(expected);
  });

  it('equals createHmac for random keys and messages of every length up to 1 KiB, strings as UTF-8', () => {
    for (let i = 0; i < 300; i++) {
      const key = randomBytes(i % 97);
      const mac = new HmacSha256(key);
      const bytes = randomBytes((i * 7) % 1025);
      expect(mac.hex(bytes)).toBe(createHmac('sha256', key).update(bytes).digest('hex'));
      const text = `${bytes.toString('base64url')}.é€😀\u0000`;
      expect(mac.hex(text)).toBe(createHmac('sha256', key).update(text, 'utf8').digest('hex'));
    }
  });

  it('a short message after a long one is not mixed with its leftovers, and none stays in the scratch buffer', () => {
    const key = randomBytes(32);
    const mac = new HmacSha256(key);
    const secret = 'S'.repeat(500);
    expect(mac.hex(secret)).toBe(createHmac('sha256', key).update(secret).digest('hex'));
    expect(mac.hex('ab')).toBe(createHmac('sha256', key).update('ab').digest('hex'));
    const scratch = (mac as unknown as { inner: Buffer }).inner;
    expect(scratch.subarray(64).every((b) => b === 0)).toBe(true);
    expect(scratch.length).toBeGreaterThanOrEqual(564);
  });
});
