import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { json, urlencoded } from 'body-parser';
import type { Request, Response } from 'express';
import { AuthError } from '../errors/auth-error.model';
import { BODY_LIMIT_BYTES, readJsonBody } from './json-body.interceptor';

type HostParser = 'none' | 'json' | 'form';

/** A server whose only handler runs readJsonBody, after the host's parser if any; answers with the code or the body. */
async function serve(host: HostParser): Promise<{ server: Server; port: number }> {
  const hostJson = json({ limit: '1mb' });
  const hostForm = urlencoded({ extended: false });
  const server = createServer((req, res) => {
    const run = (): void => {
      readJsonBody(req as Request, res as unknown as Response).then(
        () => res.end(JSON.stringify({ body: (req as Request).body ?? null })),
        (e: unknown) => res.end(JSON.stringify({ error: e instanceof AuthError ? e.code : String(e) })),
      );
    };
    if (host === 'none') return run();
    (host === 'json' ? hostJson : hostForm)(req as never, res as never, (err?: unknown) => (err ? res.end(JSON.stringify({ hostError: true })) : run()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function post(port: number, headers: Record<string, string>, chunks: Array<string | Buffer>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ port, method: 'POST', headers }, (res: IncomingMessage) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const sized = (body: string, type = 'application/json', extra: Record<string, string> = {}) => ({
  'content-type': type,
  'content-length': String(Buffer.byteLength(body)),
  ...extra,
});

describe.each<HostParser>(['none', 'json', 'form'])('readJsonBody (host parser: %s)', (host) => {
  let server: Server;
  let port: number;
  beforeAll(async () => ({ server, port } = await serve(host)));
  afterAll(() => new Promise((r) => server.close(r)));

  it('parses an object or array, also with a +json type and a UTF-8 charset', async () => {
    expect(await post(port, sized('{"a":1}'), ['{"a":1}'])).toEqual({ body: { a: 1 } });
    expect(await post(port, sized('[1,2]'), ['[1,', '2]'])).toEqual({ body: [1, 2] });
    if (host !== 'json') {
      // (the host's express.json matches application/json only: a vendor type reaches us unread)
      const vendor = '{"é":"ü"}';
      expect(await post(port, sized(vendor, 'application/vnd.api+json; charset=UTF-8'), [vendor])).toEqual({ body: { é: 'ü' } });
    }
  });

  it('leaves a request without a body alone, whatever its type', async () => {
    expect(await post(port, { 'content-length': '0' }, [])).toEqual({ body: null });
    expect(await post(port, { 'content-type': 'text/plain', 'content-length': '0' }, [])).toEqual({ body: null });
  });

  it.each([
    ['a text body', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['another charset', 'application/json; charset=koi8-r'],
  ])('refuses %s with UNSUPPORTED_MEDIA_TYPE', async (_what, type) => {
    const res = await post(port, sized('a=1', type), ['a=1']);
    // The host's json parser refuses a foreign charset itself, before auth is asked.
    if (host === 'json' && type.includes('koi8')) expect(res).toEqual({ hostError: true });
    else expect(res).toEqual({ error: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('refuses a content coding with UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await post(port, sized('{}', 'application/json', { 'content-encoding': 'gzip' }), ['{}']);
    expect(res).toEqual(host === 'json' ? { hostError: true } : { error: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('refuses a body over 16 KiB, from Content-Length or, chunked, by its size', async () => {
    const big = JSON.stringify({ a: 'x'.repeat(BODY_LIMIT_BYTES) });
    expect(await post(port, sized(big), [big])).toEqual({ error: 'PAYLOAD_TOO_LARGE' });
    const chunked = { 'content-type': 'application/json', 'transfer-encoding': 'chunked' };
    expect(await post(port, chunked, [big.slice(0, 100), big.slice(100)])).toEqual({ error: 'PAYLOAD_TOO_LARGE' });
    const fits = JSON.stringify({ a: 'x'.repeat(BODY_LIMIT_BYTES - 100) });
    expect(await post(port, chunked, [fits])).toEqual({ body: { a: 'x'.repeat(BODY_LIMIT_BYTES - 100) } });
  });

  it.each(['null', '"text"', '42', 'true'])('refuses %j with MALFORMED_JSON', async (body) => {
    expect(await post(port, sized(body), [body])).toEqual(host === 'json' ? { hostError: true } : { error: 'MALFORMED_JSON' });
  });

  it('refuses broken JSON with MALFORMED_JSON (or the host refuses it first)', async () => {
    for (const body of ['{"a":', "{'a':1}", '{"a":1}}']) {
      expect(await post(port, sized(body), [body])).toEqual(host === 'json' ? { hostError: true } : { error: 'MALFORMED_JSON' });
    }
  });
});

describe('readJsonBody over real HTTP', () => {
  it('a client that aborts mid-body neither crashes the server nor gets an answer, and the next one is served', async () => {
    const { server, port } = await serve('none');
    try {
      const aborted = httpRequest({ port, method: 'POST', headers: sized('{"a":1,"b":2}') });
      aborted.on('error', () => undefined);
      aborted.write('{"a":');
      await new Promise((r) => setTimeout(r, 50));
      aborted.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(await post(port, sized('{"c":3}'), ['{"c":3}'])).toEqual({ body: { c: 3 } });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
