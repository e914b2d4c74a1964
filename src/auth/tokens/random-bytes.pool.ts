import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * CSPRNG bytes from a pooled draw: one randomFillSync per 4 KiB instead of one call (~3 µs) per
 * secret, IV and jti. Bytes handed out are wiped from the pool, so a later heap disclosure cannot
 * replay secrets already issued. Same source as crypto.randomBytes (OpenSSL's CSPRNG).
 */
export function randomBytesPooled(size: number): Buffer {
  if (size > POOL_SIZE / 4) return randomFillSync(Buffer.allocUnsafe(size));
  if (offset + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_SIZE));
    offset = 0;
  }
  const out = Buffer.allocUnsafe(size);
  pool.copy(out, 0, offset, offset + size);
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}
