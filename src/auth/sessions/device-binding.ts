import { createHmac } from 'node:crypto';
import type { MacSecret } from '../tokens/mac-secret.loader';
import { isIP } from 'node:net';
import { boundedMemo } from '../common/bounded-memo';

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
  /** Memoised per User-Agent (and address in ua+subnet mode): clients repeat, the HMAC need not. */
  private readonly hashOf: (uaAndIp: string) => string;

  constructor(secret: MacSecret, readonly mode: DeviceBindingMode) {
    const key = secret.derive('device-binding/v1');
    this.hashOf = boundedMemo((uaAndIp) => {
      const cut = uaAndIp.lastIndexOf('\n');
      const ua = uaAndIp.slice(0, cut);
      const material = mode === 'ua+subnet' ? `${uaFamily(ua)}\n${subnetOf(uaAndIp.slice(cut + 1))}` : uaFamily(ua);
      return createHmac('sha256', key).update(`${mode}\n${material}`).digest('base64url').slice(0, HASH_CHARS);
    });
  }

  hash(client: { userAgent?: string; ip?: string }): string {
    if (this.mode === 'off') return '';
    // The UA is capped as uaFamily caps it, so a huge header cannot make a huge memo key.
    return this.hashOf(`${(client.userAgent ?? '').slice(0, 512)}\n${this.mode === 'ua+subnet' ? (client.ip ?? '') : ''}`);
  }
}
