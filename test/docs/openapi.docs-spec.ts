import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { AUTH_ERROR_CODES, AUTH_ROUTES } from '../../src/auth';
import { createTestApp, type TestApp } from '../support/test-app';
import { readRepoFile, ROOT } from './markdown';

const run = promisify(execFile);

/**
 * @apidevtools/swagger-parser (OpenAPI 3.0/3.1 schema, then semantic checks) in a child Node:
 * its ref parser is an ES module, which Jest's CommonJS runtime cannot require.
 */
async function validate(file: string): Promise<{ valid: true; openapi: string } | { valid: false; error: string }> {
  const script = `require('@apidevtools/swagger-parser').validate(process.argv[1]).then(
    (api) => console.log(JSON.stringify({ valid: true, openapi: api.openapi })),
    (e) => console.log(JSON.stringify({ valid: false, error: e.message })))`;
  const { stdout } = await run(process.execPath, ['-e', script, file], { cwd: ROOT, timeout: 30_000 });
  return JSON.parse(stdout) as { valid: true; openapi: string } | { valid: false; error: string };
}

type Operation = { responses: Record<string, { content?: Record<string, { schema?: ProblemSchema }> }> };
type ProblemSchema = { allOf?: Array<{ $ref?: string; properties?: { code?: { enum?: string[] } } }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operations(doc: Document): Array<{ method: string; path: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method, path, op })),
  );
}

/** The codes an operation declares, per status: from its problem+json responses. */
function declaredProblems(op: Operation): Array<{ status: string; codes: string[] }> {
  return Object.entries(op.responses)
    .filter(([, r]) => r.content?.['application/problem+json'] !== undefined)
    .map(([status, r]) => {
      const schema = r.content!['application/problem+json'].schema;
      const ref = schema?.allOf?.[0]?.$ref;
      if (ref !== '#/components/schemas/ProblemDetails') throw new Error(`${status}: not the ProblemDetails schema`);
      return { status, codes: schema?.allOf?.[1]?.properties?.code?.enum ?? [] };
    });
}

/** What the document says about auth's routes and errors, checked against the code. */
export function documentProblems(doc: Document, routes: Readonly<Record<string, readonly string[]>>, catalogue: Readonly<Record<string, { status: number }>>): string[] {
  const problems: string[] = [];
  for (const [path, methods] of Object.entries(routes)) {
    const docPath = `/${path.replace(/:(\w+)/g, '{$1}')}`;
    for (const method of methods) if (!doc.paths[docPath]?.[method.toLowerCase()]) problems.push(`${method} ${docPath} is not in the document`);
  }
  for (const { method, path, op } of operations(doc)) {
    const declared = declaredProblems(op);
    if (declared.length === 0) problems.push(`${method.toUpperCase()} ${path} has no application/problem+json response`);
    for (const { status, codes } of declared) {
      if (codes.length === 0) problems.push(`${method.toUpperCase()} ${path} ${status} names no code`);
      for (const code of codes) {
        if (!(code in catalogue)) problems.push(`${method.toUpperCase()} ${path} ${status}: ${code} is not an error code`);
        else if (String(catalogue[code].status) !== status) problems.push(`${method.toUpperCase()} ${path}: ${code} is under ${status}, the code answers ${catalogue[code].status}`);
      }
    }
  }
  return problems;
}

/**
 * docs/openapi.json: a valid OpenAPI 3 document (@apidevtools/swagger-parser), the one the app
 * serves and `npm run openapi` writes, with every auth route and each operation's error codes.
 */
describe('the OpenAPI document (docs/openapi.json)', () => {
  const committed = JSON.parse(readRepoFile('docs/openapi.json')) as Document;
  let app: TestApp;
  let served: Document;

  beforeAll(async () => {
    app = await createTestApp({ redis: false, database: 'embedded' });
    const res = await request(app.http).get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    served = res.body as Document;
  });
  afterAll(() => app?.close());

  it('is valid OpenAPI 3 (schema and semantics), and an invalid one is refused', async () => {
    expect(await validate(join(ROOT, 'docs', 'openapi.json'))).toEqual({ valid: true, openapi: committed.openapi });
    expect(committed.openapi).toMatch(/^3\./);
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const broken = structuredClone(committed) as unknown as Record<string, Record<string, unknown>>;
      (broken.paths['/auth/me'] as Record<string, unknown>).get = { responses: { '200': { content: {} } } }; // a response without its description
      writeFileSync(join(dir, 'broken.json'), JSON.stringify(broken));
      expect(await validate(join(dir, 'broken.json'))).toEqual({ valid: false, error: expect.stringMatching(/description/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is up to date: the app serves the committed document (regenerate with `npm run openapi`)', () => {
    expect(served).toEqual(committed);
  });

  it('`npm run openapi -- <path>` writes it without Redis or PostgreSQL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const out = join(dir, 'openapi.json');
      // No REDIS_URL or DATABASE_URL here, whatever the shell has: the script boots embedded.
      await run('npm', ['run', '-s', 'openapi', '--', out], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', REDIS_URL: 'redis://127.0.0.1:1' }, timeout: 60_000 });
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(committed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("has every route of AUTH_ROUTES, a problem+json response on every operation, only the catalogue's codes at their statuses", () => {
    expect(documentProblems(committed, AUTH_ROUTES, AUTH_ERROR_CODES)).toEqual([]);
    expect(operations(committed).length).toBeGreaterThanOrEqual(Object.values(AUTH_ROUTES).flat().length);
  });

  describe('the check fails on a stale document', () => {
    it('a route missing, an operation without problem+json, an unknown code, a code under the wrong status', () => {
      const doc = structuredClone(committed);
      delete doc.paths['/auth/me'];
      doc.paths['/metrics'].get.responses = { '200': {} };
      const login = doc.paths['/auth/login'].post.responses;
      login['401'].content!['application/problem+json'].schema!.allOf![1].properties!.code!.enum = ['INVALID_CREDENTIALS', 'NO_SUCH_CODE'];
      login['429'].content!['application/problem+json'].schema!.allOf![1].properties!.code!.enum = ['STORE_UNAVAILABLE'];
      expect(documentProblems(doc, AUTH_ROUTES, AUTH_ERROR_CODES)).toEqual([
        'GET /auth/me is not in the document',
        'POST /auth/login 401: NO_SUCH_CODE is not an error code',
        'POST /auth/login: STORE_UNAVAILABLE is under 429, the code answers 503',
        'GET /metrics has no application/problem+json response',
      ]);
    });
  });
});
