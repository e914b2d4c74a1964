import { randomBytesPooled } from './random-bytes.pool';

describe('randomBytesPooled', () => {
  it('returns buffers of the requested size that do not share memory', () => {
    const a = randomBytesPooled(32);
    const b = randomBytesPooled(32);
    expect([a.length, b.length]).toEqual([32, 32]);
    expect(a.equals(b)).toBe(false);
    const copy = Buffer.from(b);
    a.fill(0xff);
    expect(b.equals(copy)).toBe(true);
  });

  it('never hands out the same bytes twice across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(randomBytesPooled(16).toString('hex'));
    expect(seen.size).toBe(2000);
  });

  it('looks uniform: each bit is set about half the time over 64 KiB', () => {
    let ones = 0;
    for (let i = 0; i < 2048; i++) for (const byte of randomBytesPooled(32)) for (let bit = 0; bit < 8; bit++) ones += (byte >> bit) & 1;
    const total = 2048 * 32 * 8;
    // 6 standard deviations of a fair coin over 524288 flips: ~0.4 %.
    expect(Math.abs(ones / total - 0.5)).toBeLessThan(0.005);
  });

  it('serves large requests directly', () => {
    expect(randomBytesPooled(5000).length).toBe(5000);
  });
});
