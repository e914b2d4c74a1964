import { createHmac } from 'node:crypto';
import type { MacSecret } from '../tokens/mac-secret.loader';
import { subnetOf } from '../sessions/device-binding';
import type { AttemptKeys } from './login-attempt-store.port';

/**
 * Opaque counter keys for the lockout store: HMACs (key derived from the server's MAC secret, own HKDF
 * info) of the submitted email, trimmed and lower-cased — whether or not an account has it, so
 * a lock says nothing about existence — and of the client address (IPv6 per /64).
 */
export class AttemptKeyer {
  private readonly key: Buffer;

  constructor(secret: MacSecret) {
    this.key = secret.derive('login-attempt-keys/v1');
  }

  keys(email: string, ip: string | undefined): AttemptKeys {
    const account = this.mac(`a\n${email.trim().normalize('NFKC').toLowerCase()}`);
    const addr = ip ?? 'unknown';
    const source = this.mac(`s\n${addr.includes(':') && !addr.startsWith('::ffff:') ? subnetOf(addr) || addr : addr}`);
    return { account, source };
  }

  private mac(s: string): string {
    return createHmac('sha256', this.key).update(s).digest('base64url').slice(0, 22);
  }
}
