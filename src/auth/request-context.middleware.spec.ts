import type { NextFunction, Request, Response } from 'express';
import { requestContextMiddleware } from './request-context.middleware';

describe('requestContextMiddleware', () => {
  /** Runs the middleware on a request with these headers; returns req.id and what next() saw. */
  function run(headers: Record<string, string | string[]> = {}): { id: unknown; inside: string | undefined } {
    const req = { headers } as unknown as Request & { id?: string };
    let inside: string | undefined;
    const next: NextFunction = () => {
      inside = req.id;
    };
    requestContextMiddleware(req, {} as Response, next);
    return { id: req.id, inside };
  }

  it('keeps a sane X-Request-Id as req.id, set before the rest of the request runs', () => {
    expect(run({ 'x-request-id': 'req-login-1' })).toEqual({ id: 'req-login-1', inside: 'req-login-1' });
    const longest = 'a.B_c:9-'.repeat(8);
    expect(run({ 'x-request-id': longest })).toEqual({ id: longest, inside: longest });
  });

  it.each([
    ['oversized', 'a'.repeat(65)],
    ['empty', ''],
    ['a space', 'req 1'],
    ['a forged log line', 'x\n{"audit":true}'],
    ['a quote', 'x"y'],
  ])('replaces an X-Request-Id with %s by a generated one', (_what, given) => {
    const { id, inside } = run({ 'x-request-id': given });
    expect(id).not.toBe(given);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(inside).toBe(id);
  });

  it('generates one when the header is missing or repeated', () => {
    expect(run().id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run({ 'x-request-id': ['a', 'b'] }).id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('generates a different id for every request', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => run().id));
    expect(ids.size).toBe(1000);
  });
});
