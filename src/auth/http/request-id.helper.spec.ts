import type { Request } from 'express';
import { requestIdOf } from './request-id.helper';

describe('requestIdOf', () => {
  const requestWith = (headers: Record<string, string | string[]> = {}): Request & { id?: string } =>
    ({ headers }) as unknown as Request & { id?: string };

  it('keeps a sane X-Request-Id', () => {
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
