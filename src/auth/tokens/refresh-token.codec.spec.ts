import { createHash, randomBytes } from 'node:crypto';
import { MacSecret } from './mac-secret.loader';
import { hashSecret, MAX_REFRESH_TOKEN_LENGTH, RefreshTokenCodec, SEALED_SUCCESSOR_BYTES } from './refresh-token.codec';
import { newSessionId } from './session-id.codec';

describe('RefreshTokenCodec', () => {
  const seed = randomBytes(32);
  const codec = new RefreshTokenCodec(MacSecret.fromBytes(seed));
  const sid = newSessionId(Date.now());

  /** Replaces segment `i` (0 user, 1 sid, 2 secret, 3 tag) of a token. */
  function withSegment(token: string, i: number, value: string): string {
    const parts = token.split('.');
    parts[i] = value;
    return parts.join('.');
  }

  /** Another base64url character at position `pos` of the segment (changes the decoded bits). */
  function flipChar(segment: string, pos: number): string {
    const c = segment[pos];
    return segment.slice(0, pos) + (c === 'A' ? 'B' : 'A') + segment.slice(pos + 1);
  }

  describe('create and parse', () => {
    it('round-trips user id, sid and secret, genuine, and stores only SHA-256 of a 256-bit secret', () => {
      const created = codec.create('user-42', sid);
      expect(created.secret).toHaveLength(32);
      expect(created.secretHash.equals(createHash('sha256').update(created.secret).digest())).toBe(true);
      expect(hashSecret(created.secret).equals(created.secretHash)).toBe(true);
      expect(created.secretHash.equals(createHash('sha256').update(created.secret).digest())).toBe(true);
      expect(created.token.length).toBeLessThanOrEqual(MAX_REFRESH_TOKEN_LENGTH);

      const parsed = codec.parse(created.token);
      expect(parsed).not.toBeNull();
      expect(parsed!.userId).toBe('user-42');
      expect(parsed!.sid).toBe(sid);
      expect(parsed!.secret.equals(created.secret)).toBe(true);
      expect(parsed!.genuine).toBe(true);
    });

    it('round-trips a UUID and a non-ASCII user id', () => {
      for (const userId of ['3f2b6c1e-8a4d-4e2f-9b7a-1c2d3e4f5a6b', 'jürgen', 'u'.repeat(128)]) {
        const parsed = codec.parse(codec.create(userId, sid).token);
        expect(parsed).toMatchObject({ userId, sid, genuine: true });
      }
    });

    it('gives every token a fresh secret', () => {
      const a = codec.create('u', sid);
      const b = codec.create('u', sid);
      expect(a.secret.equals(b.secret)).toBe(false);
      expect(a.token).not.toBe(b.token);
    });
  });

  describe('the tag: genuine=false for anything we did not issue', () => {
    it('a changed tag', () => {
      const { token } = codec.create('user-1', sid);
      const tag = token.split('.')[3];
      expect(codec.parse(withSegment(token, 3, flipChar(tag, 0)))).toMatchObject({ genuine: false });
      expect(codec.parse(withSegment(token, 3, 'A'.repeat(22)))).toMatchObject({ genuine: false });
    });

    it('a changed secret, sid or user id under the original tag', () => {
      const { token } = codec.create('user-1', sid);
      const [, , secret] = token.split('.');
      expect(codec.parse(withSegment(token, 2, flipChar(secret, 5)))).toMatchObject({ genuine: false });
      expect(codec.parse(withSegment(token, 1, newSessionId(Date.now())))).toMatchObject({ genuine: false });
      expect(codec.parse(withSegment(token, 0, Buffer.from('user-2').toString('base64url')))).toMatchObject({
        userId: 'user-2',
        genuine: false,
      });
    });

    it('a token issued under another server key', () => {
      const foreign = new RefreshTokenCodec(MacSecret.fromBytes(randomBytes(32))).create('user-1', sid).token;
      expect(codec.parse(foreign)).toMatchObject({ userId: 'user-1', sid, genuine: false });
    });

    it('the same MAC secret gives the same verdict (instances agree)', () => {
      const { token } = codec.create('user-1', sid);
      expect(new RefreshTokenCodec(MacSecret.fromBytes(Buffer.from(seed))).parse(token)?.genuine).toBe(true);
    });
  });

  describe('malformed input: null', () => {
    const good = (): string => codec.create('user-1', sid).token;

    it.each([
      ['empty', () => ''],
      ['three segments', () => good().split('.').slice(0, 3).join('.')],
      ['five segments', () => good() + '.AAAA'],
      ['a sid of the wrong length', () => withSegment(good(), 1, 'A'.repeat(21))],
      ['a secret of the wrong length', () => withSegment(good(), 2, 'A'.repeat(42))],
      ['a tag of the wrong length', () => withSegment(good(), 3, 'A'.repeat(21))],
      ['characters outside base64url', () => withSegment(good(), 2, '+'.repeat(43))],
      ['padding', () => withSegment(good(), 3, 'A'.repeat(20) + '==')],
      ['an empty user id', () => withSegment(good(), 0, '')],
      ['a user id longer than 128 characters', () => withSegment(good(), 0, Buffer.from('u'.repeat(129)).toString('base64url'))],
      ['a user id with a control character', () => withSegment(good(), 0, Buffer.from('user\n1').toString('base64url'))],
      ['a user id with a Redis hash-tag brace', () => withSegment(good(), 0, Buffer.from('user}{x').toString('base64url'))],
      ['whitespace around it', () => ` ${good()} `],
      ['an overlong token', () => 'A'.repeat(MAX_REFRESH_TOKEN_LENGTH + 1)],
      ['an access token', () => 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln'],
    ])('%s', (_what, make) => {
      expect(codec.parse(make())).toBeNull();
    });

    it('non-string input', () => {
      for (const v of [undefined, null, 42, {}, ['a']]) expect(codec.parse(v as unknown as string)).toBeNull();
    });
  });

  describe('the sealed successor', () => {
    it('opens with the previous token only, to exactly the successor token', () => {
      const previous = codec.create('user-1', sid);
      const successor = codec.create('user-1', sid);
      const sealed = codec.sealSuccessor(previous.secret, successor);
      expect(sealed.length).toBe(SEALED_SUCCESSOR_BYTES);
      expect(sealed.includes(successor.secret)).toBe(false);
      const parsedPrevious = codec.parse(previous.token)!;
      expect(codec.openSuccessor(parsedPrevious, sealed)).toBe(successor.token);
      // The successor is a token like any other: it parses and is genuine.
      expect(codec.parse(codec.openSuccessor(parsedPrevious, sealed)!)?.genuine).toBe(true);
      expect(codec.openSuccessor({ ...parsedPrevious, secret: randomBytes(32) }, sealed)).toBeNull();
      // The store keeps the hash of the previous secret: that is not the key either.
      expect(codec.openSuccessor({ ...parsedPrevious, secret: previous.secretHash }, sealed)).toBeNull();
    });

    it('refuses tampered, truncated, extended or empty blobs', () => {
      const previous = codec.create('user-1', sid);
      const parsed = codec.parse(previous.token)!;
      const sealed = codec.sealSuccessor(previous.secret, codec.create('user-1', sid));
      for (const i of [0, 17, 31, 32, sealed.length - 1]) {
        const bad = Buffer.from(sealed);
        bad[i] ^= 0x01;
        expect(codec.openSuccessor(parsed, bad)).toBeNull();
      }
      expect(codec.openSuccessor(parsed, sealed.subarray(0, sealed.length - 1))).toBeNull();
      expect(codec.openSuccessor(parsed, Buffer.concat([sealed, Buffer.from([0])]))).toBeNull();
      expect(codec.openSuccessor(parsed, Buffer.alloc(0))).toBeNull();
    });

    it('masks different successors of one secret differently, and never with the secret itself', () => {
      const previous = codec.create('user-1', sid);
      const a = codec.create('user-1', sid);
      const b = codec.create('user-1', sid);
      const sa = codec.sealSuccessor(previous.secret, a);
      const sb = codec.sealSuccessor(previous.secret, b);
      expect(sa.equals(sb)).toBe(false);
      const xor = Buffer.from(a.secret.map((v, i) => v ^ previous.secret[i]));
      expect(sa.subarray(0, 32).equals(xor)).toBe(false);
    });
  });
});
