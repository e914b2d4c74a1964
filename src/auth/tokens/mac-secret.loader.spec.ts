import { generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { AttemptKeyer } from '../abuse/attempt-keys';
import { DeviceBinder } from '../sessions/device-binding';
import { loadMacSecret, MAC_SECRET_BYTES, MacSecret, MacSecretError } from './mac-secret.loader';
import { RefreshTokenCodec } from './refresh-token.codec';
import { newSessionId } from './session-id.codec';

describe('loadMacSecret', () => {
  let dir: string;
  let n = 0;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mac-secret-spec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh path, in a directory that does not exist yet. */
  const fresh = (): string => join(dir, `d${n++}`, 'mac-secret');
  const withText = (text: string): string => {
    const path = join(dir, `f${n++}`);
    writeFileSync(path, text);
    return path;
  };

  describe('generation (development)', () => {
    it('creates 32 random bytes as base64url text, readable by the owner only, once', () => {
      const path = fresh();
      expect(loadMacSecret({ path, generateIfMissing: true }).generated).toBe(true);
      const text = readFileSync(path, 'utf8');
      expect(text).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
      expect(Buffer.from(text.trim(), 'base64url')).toHaveLength(MAC_SECRET_BYTES);
      expect(statSync(path).mode & 0o077).toBe(0);

      const again = loadMacSecret({ path, generateIfMissing: true });
      expect(again.generated).toBe(false);
      expect(readFileSync(path, 'utf8')).toBe(text);
    });

    it('two secrets generated apart differ', () => {
      const a = loadMacSecret({ path: fresh(), generateIfMissing: true }).secret;
      const b = loadMacSecret({ path: fresh(), generateIfMissing: true }).secret;
      expect(a.derive('x').equals(b.derive('x'))).toBe(false);
    });
  });

  describe('refusals: one line naming AUTH_MAC_SECRET_PATH', () => {
    function refusal(path: string): string {
      try {
        loadMacSecret({ path, generateIfMissing: false });
      } catch (e) {
        expect(e).toBeInstanceOf(MacSecretError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    }

    it('a missing file when generation is off (production), creating nothing', () => {
      const path = fresh();
      const message = refusal(path);
      expect(message).toContain(`AUTH_MAC_SECRET_PATH=${path}`);
      expect(message).not.toContain('\n');
      expect(existsSync(path)).toBe(false);
    });

    it.each<[string, string]>([
      ['fewer than 32 bytes', randomBytes(31).toString('base64url')],
      ['an empty file', ''],
      ['text that is not base64', 'correct horse battery staple correct horse battery staple'],
      ['a PEM key (a signing key file named by mistake)', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
      ['more than 1024 bytes', randomBytes(1025).toString('base64url')],
    ])('%s', (_what, text) => {
      const message = refusal(withText(text));
      expect(message).toContain('AUTH_MAC_SECRET_PATH=');
      expect(message).not.toContain('\n');
    });
  });

  it('reads base64url and padded base64 (`openssl rand -base64 32`) alike, whitespace ignored', () => {
    const bytes = randomBytes(32);
    const a = loadMacSecret({ path: withText(`${bytes.toString('base64url')}\n`), generateIfMissing: false }).secret;
    const b = loadMacSecret({ path: withText(`  ${bytes.toString('base64')}\r\n`), generateIfMissing: false }).secret;
    expect(a.derive('p').equals(b.derive('p'))).toBe(true);
  });
});

describe('MacSecret', () => {
  const bytes = randomBytes(32);
  const secret = MacSecret.fromBytes(bytes);

  it('derives each purpose\u2019s key with HKDF-SHA-256 (salt "auth-domain", info = the purpose), as before the secret was separate', () => {
    // Pinned: changing the derivation would invalidate every session and cookie.
    expect(secret.derive('refresh-token-tag/v1').equals(Buffer.from(hkdfSync('sha256', bytes, 'auth-domain', 'refresh-token-tag/v1', 32)))).toBe(true);
    expect(secret.derive('browser-csrf/v1').equals(secret.derive('device-binding/v1'))).toBe(false);
  });

  it('refuses fewer than 32 bytes', () => {
    expect(() => MacSecret.fromBytes(randomBytes(16))).toThrow(MacSecretError);
  });

  it('never shows its bytes when printed or serialised', () => {
    const hex = bytes.toString('hex');
    const b64 = bytes.toString('base64');
    for (const shown of [inspect(secret, { showHidden: true, depth: 5 }), JSON.stringify(secret), String(secret)]) {
      expect(shown).not.toContain(hex);
      expect(shown).not.toContain(b64);
      expect(shown).not.toMatch(/[0-9a-f]{2} [0-9a-f]{2} [0-9a-f]{2}/); // Buffer's <Buffer 1f 2e ...>
    }
  });
});

describe('MAC keys follow the MAC secret, and only it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mac-derivation-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'mac-secret');
  const load = (p = path) => loadMacSecret({ path: p, generateIfMissing: true }).secret;
  const sid = newSessionId(Date.now());

  it('every instance that loads the same file accepts the other\u2019s refresh tokens, cookies, bindings and lockout keys', () => {
    const [a, b] = [load(), load()];
    expect(new RefreshTokenCodec(b).parse(new RefreshTokenCodec(a).create('user-1', sid).token)?.genuine).toBe(true);
    expect(new RefreshTokenCodec(b, 'browser-session-tag/v1').parse(new RefreshTokenCodec(a, 'browser-session-tag/v1').create('user-1', sid).token)?.genuine).toBe(true);
    const client = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
    expect(new DeviceBinder(b, 'ua').hash(client)).toBe(new DeviceBinder(a, 'ua').hash(client));
    expect(new AttemptKeyer(b).keys('ada@example.com', '198.51.100.7')).toEqual(new AttemptKeyer(a).keys('ada@example.com', '198.51.100.7'));
  });

  it('another secret accepts none of them', () => {
    const a = load();
    const other = load(join(dir, 'other'));
    expect(new RefreshTokenCodec(other).parse(new RefreshTokenCodec(a).create('user-1', sid).token)?.genuine).toBe(false);
    const client = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };
    expect(new DeviceBinder(other, 'ua').hash(client)).not.toBe(new DeviceBinder(a, 'ua').hash(client));
    expect(new AttemptKeyer(other).keys('ada@example.com', undefined)).not.toEqual(new AttemptKeyer(a).keys('ada@example.com', undefined));
  });

  it('a refresh token and a session cookie are never genuine as each other (one secret, two purposes)', () => {
    const a = load();
    const cookie = new RefreshTokenCodec(a, 'browser-session-tag/v1').create('user-1', sid).token;
    expect(new RefreshTokenCodec(a).parse(cookie)?.genuine).toBe(false);
  });
});
