import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { AuthError } from '../errors/auth-error.model';
import { jsonBody } from './json-body.middleware';

const LIMIT = 64;

/** Runs the middleware over a request made of these chunks; resolves with what next() got and req.body. */
function run(headers: Record<string, string>, chunks: Array<string | Buffer>, end = true): Promise<{ error?: string; body: unknown }> {
  const stream = new Readable({ read() {} });
  const req = Object.assign(stream, { headers }) as unknown as Request & { body?: unknown };
  return new Promise((resolve) => {
    jsonBody(LIMIT)(req, {} as Response, (err?: unknown) => resolve({ error: err instanceof AuthError ? err.code : err ? String(err) : undefined, body: req.body }));
    for (const c of chunks) stream.push(c);
    if (end) stream.push(null);
  });
}
const json = (body: string, extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra });

describe('jsonBody', () => {
  it('parses an object or array, also across chunks and with a +json type and a UTF-8 charset', async () => {
    expect(await run(json('{"a":1}'), ['{"a":1}'])).toEqual({ body: { a: 1 } });
    expect(await run(json('[1,2]'), ['[1,', '2]'])).toEqual({ body: [1, 2] });
    const vendor = json('{"é":"ü"}', { 'content-type': 'application/vnd.api+json; charset=UTF-8' });
    expect(await run(vendor, [Buffer.from('{"é":'), Buffer.from('"ü"}')])).toEqual({ body: { é: 'ü' } });
    expect(await run(json('\ufeff {"a":1}'), ['\ufeff {"a":1}'])).toEqual({ body: { a: 1 } });
  });

  it('leaves a request without a body alone, whatever its type', async () => {
    expect(await run({}, [])).toEqual({ body: undefined });
    expect(await run({ 'content-type': 'text/plain', 'content-length': '0' }, [])).toEqual({ body: undefined });
  });

  it('reads an empty chunked body as {}', async () => {
    expect(await run({ 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, [])).toEqual({ body: {} });
  });

  it.each([
    ['a text body', { 'content-type': 'text/plain', 'content-length': '2' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '3' }],
    ['no content type', { 'content-length': '2' }],
    ['another charset', { 'content-type': 'application/json; charset=koi8-r', 'content-length': '2' }],
    ['a content coding', { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': '2' }],
  ])('refuses %s with UNSUPPORTED_MEDIA_TYPE before reading', async (_what, headers) => {
    expect(await run(headers, ['{}'])).toEqual({ error: 'UNSUPPORTED_MEDIA_TYPE', body: undefined });
  });

  it('refuses a body over the limit, from Content-Length or while reading a chunked body', async () => {
    expect(await run(json('x'.repeat(LIMIT + 1)), [])).toEqual({ error: 'PAYLOAD_TOO_LARGE', body: undefined });
    const chunked = { 'content-type': 'application/json', 'transfer-encoding': 'chunked' };
    expect(await run(chunked, ['{"a":"', 'x'.repeat(LIMIT), '"}'])).toEqual({ error: 'PAYLOAD_TOO_LARGE', body: undefined });
  });

  it.each(['{"a":', 'null', '"text"', '42', 'true', '   ', "{'a':1}", '{"a":1}}'])('refuses %j with MALFORMED_JSON', async (body) => {
    expect(await run(json(body), [body])).toEqual({ error: 'MALFORMED_JSON', body: undefined });
  });

  it('does not answer a client that went away mid-body', async () => {
    const stream = new Readable({ read() {} });
    const req = Object.assign(stream, { headers: json('{"a":1}') }) as unknown as Request;
    const next = jest.fn();
    jsonBody(LIMIT)(req, {} as Response, next);
    stream.push('{"a"');
    stream.destroy();
    await new Promise((r) => setImmediate(r));
    expect(next).not.toHaveBeenCalled();
  });

  it('over real HTTP: a client that aborts mid-body neither crashes the server nor gets an answer, and the next one is served', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      jsonBody(LIMIT)(req as Request, res as unknown as Response, (err?: unknown) => {
        seen.push(err ? String(err) : JSON.stringify((req as Request & { body?: unknown }).body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const aborted = httpRequest({ port, method: 'POST', headers: json('{"a":1,"b":2}') });
      aborted.on('error', () => undefined);
      aborted.write('{"a":');
      await new Promise((r) => setTimeout(r, 50));
      aborted.destroy();
      await new Promise((r) => setTimeout(r, 50));
      const body = await new Promise<string>((resolve, reject) => {
        const ok = httpRequest({ port, method: 'POST', headers: json('{"c":3}') }, (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d));
          res.on('end', () => resolve(text));
        });
        ok.on('error', reject);
        ok.end('{"c":3}');
      });
      expect(body).toBe('ok');
      expect(seen).toEqual(['{"c":3}']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
