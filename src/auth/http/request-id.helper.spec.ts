import type { Request } from 'express';
import { requestIdOf } from './request-id.helper';

describe('requestIdOf', () => {
  /** A request from 10.0.0.5, whose host trusts `trust` (Express's `trust proxy` setting). */
  const requestWith = (headers: Record<string, string | string[]> = {}, trust: unknown = 'loopback, 10.0.0.0/8'): Request & { id?: string } =>
    ({ headers, socket: { remoteAddress: '10.0.0.5' }, app: { get: (k: string) => (k === 'trust proxy' ? trust : undefined) } }) as unknown as Request & { id?: string };

  it('ignores an X-Request-Id from a peer that is not a trusted proxy: the client cannot choose the id', () => {
    for (const trust of [false, null, '192.168.0.0/16', 0]) {
      const id = requestIdOf(requestWith({ 'x-request-id': 'chosen-by-client' }, trust));
      expect(id).not.toBe('chosen-by-client');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    for (const trust of [true, 1, '10.0.0.5', ['loopback', '10.0.0.0/8']]) {
      expect(requestIdOf(requestWith({ 'x-request-id': 'from-proxy' }, trust))).toBe('from-proxy');
    }
  });

  it('keeps a sane X-Request-Id from a trusted proxy', () => {
    const req = requestWith({ 'x-request-id': 'req-login-1' });
    expect(requestIdOf(req)).toBe('req-login-1');
    const longest = 'a.B_c:9-'.repeat(8);
    expect(requestIdOf(requestWith({ 'x-request-id': longest }))).toBe(longest);
  });

  it.each([
    ['oversized', 'a'.repeat(65)],
    ['empty', ''],
    ['a space', 'req 1'],
    ['a forged log line', 'x\n{"audit":true}'],
    ['a quote', 'x"y'],
  ])('replaces an X-Request-Id with %s by a generated one', (_what, given) => {
    const id = requestIdOf(requestWith({ 'x-request-id': given }));
    expect(id).not.toBe(given);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('generates one when the header is missing or repeated', () => {
    expect(requestIdOf(requestWith())).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestIdOf(requestWith({ 'x-request-id': ['a', 'b'] }))).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is the same id for every call on one request, and another for every request', () => {
    const req = requestWith();
    const first = requestIdOf(req);
    expect(requestIdOf(req)).toBe(first);
    expect(requestIdOf(req)).toBe(first);
    const ids = new Set(Array.from({ length: 1000 }, () => requestIdOf(requestWith())));
    expect(ids.size).toBe(1000);
  });
});
