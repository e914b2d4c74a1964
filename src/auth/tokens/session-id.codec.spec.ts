import { isSessionId, newSessionId, sessionCreatedAt } from './session-id.codec';

describe('session id codec', () => {
  it('is 22 base64url characters (128 bits) and encodes its creation time to the millisecond', () => {
    for (const ms of [0, 1, 1_750_000_123_456, 2 ** 48 - 1]) {
      const sid = newSessionId(ms);
      expect(sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(isSessionId(sid)).toBe(true);
      expect(sessionCreatedAt(sid)).toBe(ms);
    }
  });

  it('drops a fraction of a millisecond', () => {
    expect(sessionCreatedAt(newSessionId(1_750_000_000_000.9))).toBe(1_750_000_000_000);
  });

  it('keeps creation order between milliseconds, and is unique within one', () => {
    const t = Date.now();
    expect(sessionCreatedAt(newSessionId(t)) < sessionCreatedAt(newSessionId(t + 1))).toBe(true);
    const ids = new Set(Array.from({ length: 1000 }, () => newSessionId(t)));
    expect(ids.size).toBe(1000);
  });

  it('recognises only the exact shape', () => {
    const sid = newSessionId(Date.now());
    for (const bad of ['', sid.slice(1), sid + 'A', sid.slice(0, 21) + '=', sid.slice(0, 21) + '+', ` ${sid.slice(1)}`, sid.slice(0, 21) + '.']) {
      expect(isSessionId(bad)).toBe(false);
    }
  });
});
