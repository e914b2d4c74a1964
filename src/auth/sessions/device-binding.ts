import { createHmac } from 'node:crypto';
import type { MacSecret } from '../tokens/mac-secret.loader';
import { isIP } from 'node:net';

export type DeviceBindingMode = 'off' | 'ua' | 'ua+subnet';

/** Characters of the base64url HMAC kept: 16 = 96 bits, plenty to tell devices apart. */
const HASH_CHARS = 16;

/**
 * The network a client address belongs to: /24 for IPv4, /64 for IPv6 (an IPv4-mapped IPv6
 * address counts as IPv4). Unparseable input yields '' (no network binding rather than a guess).
 */
export function subnetOf(ip: string | undefined): string {
  if (!ip) return '';
  const v4 = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  if (isIP(v4) === 4) return v4.split('.').slice(0, 3).join('.') + '.0/24';
  if (isIP(ip) !== 6) return '';
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':') + '::/64';
}

/**
 * The User-Agent with its version numbers blanked, so a browser update does not change the
 * binding ("Chrome/126.0.0.0" and "Chrome/127.0.1.2" bind alike) while another browser, OS or
 * client library does not match.
 */
export function uaFamily(userAgent: string | undefined): string {
  return (userAgent ?? '').slice(0, 512).replace(/\d+(?:[._]\d+)*/g, '#');
}

/**
 * Computes a session's device binding hash: HMAC-SHA256 under a key derived from the server's
 * MAC secret (its own HKDF info), over the UA family and, in `ua+subnet` mode, the client subnet.
 * Truncated; never reversible to the UA or address. '' when binding is off.
 */
export class DeviceBinder {
  private readonly key: Buffer;

  constructor(secret: MacSecret, readonly mode: DeviceBindingMode) {
    this.key = secret.derive('device-binding/v1');
  }

  hash(client: { userAgent?: string; ip?: string }): string {
    if (this.mode === 'off') return '';
    const ua = uaFamily(client.userAgent);
    const material = this.mode === 'ua+subnet' ? `${ua}\n${subnetOf(client.ip)}` : ua;
    return createHmac('sha256', this.key).update(`${this.mode}\n${material}`).digest('base64url').slice(0, HASH_CHARS);
  }
}
