import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import type { Response } from 'supertest';
import {
  bearer,
  CHROME_ON_MACOS,
  createTestApp,
  expectProblem,
  PASSWORD,
  parseSetCookie,
  setCookies,
  uniqueEmail,
  type TestApp,
} from '../support/test-app';

type Schema = Record<string, unknown>;
type MediaType = { schema?: Schema };
type OperationDoc = { responses: Record<string, { content?: Record<string, MediaType> }> };
type OpenApiDocument = {
  paths: Record<string, Record<string, OperationDoc>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, { name?: string; in?: string }> };
};

/**
 * Responses validated strictly: every object schema of the components refuses properties it does
 * not declare, so an undocumented field in a real answer fails here (the published document stays
 * open to additions).
 */
function closed(doc: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(doc);
  for (const schema of Object.values(copy.components.schemas)) {
    if (schema.type === 'object' && schema.properties !== undefined && schema.additionalProperties === undefined) schema.additionalProperties = false;
  }
  return copy;
}

const pointer = (...parts: string[]): string => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Checks real answers against the document the app serves: status, content type, body schema. */
class DocumentedResponses {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addFormat('password', true);
    // The whole document as one schema resource: `#/components/schemas/…` refs resolve inside it.
    this.ajv.addSchema(closed(doc), 'openapi.json');
  }

  /** Fails unless the operation declares the status, the content type, and a schema the body matches. */
  check(method: string, path: string, res: Response): void {
    const label = `${method} ${path} → ${res.status} ${res.headers['content-type'] ?? '(no content type)'} ${res.text?.slice(0, 300)}`;
    const op = this.doc.paths[path]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${path} is not in the document`);
    const response = op.responses[String(res.status)];
    if (!response) throw new Error(`status not declared: ${label} (declared: ${Object.keys(op.responses).join(', ')})`);
    if (res.status === 204 || response.content === undefined) {
      expect([label, response.content, res.text ?? '']).toEqual([label, undefined, '']);
      return;
    }
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0].trim();
    if (!(mediaType in response.content)) throw new Error(`content type not declared: ${label} (declared: ${Object.keys(response.content).join(', ')})`);
    const ref = `openapi.json#/${pointer('paths', path, method.toLowerCase(), 'responses', String(res.status), 'content', mediaType, 'schema')}`;
    let validate = this.validators.get(ref);
    if (!validate) this.validators.set(ref, (validate = this.ajv.compile({ $ref: ref })));
    // supertest parses JSON bodies only; text/html, text/css … are strings.
    const body = /[/+]json$/.test(mediaType) ? res.body : res.text;
    if (!validate(body)) throw new Error(`body does not match the schema: ${label}\n${this.ajv.errorsText(validate.errors)}`);
  }
}

/**
 * The main flows' real answers match the OpenAPI document the app serves at /openapi.json:
 * declared status, declared content type, body valid against the schema (no undocumented field),
 * and the cookies the security schemes name.
 */
describe('real responses match the OpenAPI document', () => {
  const SECRET = 'i'.repeat(40);
  let t: TestApp;
  let doc: OpenApiDocument;
  let documented: DocumentedResponses;
  let origin: string;

  beforeAll(async () => {
    t = await createTestApp({ redis: false, database: 'embedded', env: { AUTH_INTROSPECTION_CLIENTS: `orders:${SECRET}` } });
    origin = `http://127.0.0.1:${(t.http.address() as { port: number }).port}`;
    const res = await request(t.http).get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.body as OpenApiDocument;
    documented = new DocumentedResponses(doc);
  });
  afterAll(() => t?.close());

  it('serves Swagger UI at /docs, on the document', async () => {
    const page = await request(t.http).get('/docs/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui');
    const init = await request(t.http).get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toContain('"/auth/login"');
  });

  it('the checker refuses an undeclared status, an undeclared content type and an undocumented field', async () => {
    const ok = await request(t.http).get('/.well-known/jwks.json');
    documented.check('GET', '/.well-known/jwks.json', ok);
    const fake = (over: Partial<Response>): Response => ({ ...ok, ...over }) as Response;
    expect(() => documented.check('GET', '/.well-known/jwks.json', fake({ status: 418 } as Partial<Response>))).toThrow(/status not declared/);
    expect(() => documented.check('GET', '/.well-known/jwks.json', fake({ headers: { 'content-type': 'text/plain' } } as Partial<Response>))).toThrow(/content type not declared/);
    const extra = { keys: [{ ...(ok.body as { keys: object[] }).keys[0], secret: 'x' }] };
    expect(() => documented.check('GET', '/.well-known/jwks.json', fake({ body: extra } as Partial<Response>))).toThrow(/does not match the schema/);
  });

  it('register, login (cookie and body delivery), refresh (body and cookie), me, sessions, logout', async () => {
    const email = uniqueEmail('openapi');
    const registered = await request(t.http).post('/auth/register').send({ email, password: PASSWORD });
    expect(registered.status).toBe(201);
    documented.check('POST', '/auth/register', registered);

    // Cookie delivery: no refresh token in the body; the cookie the refreshCookie scheme names.
    const viaCookie = await request(t.http).post('/auth/login').send({ email, password: PASSWORD });
    expect(viaCookie.status).toBe(200);
    documented.check('POST', '/auth/login', viaCookie);
    expect(viaCookie.body.refreshToken).toBeUndefined();
    const refreshCookieName = doc.components.securitySchemes.refreshCookie;
    expect(refreshCookieName).toMatchObject({ in: 'cookie', name: t.config.cookie.secure ? '__Secure-refresh_token' : 'refresh_token' });
    const cookie = setCookies(viaCookie).map(parseSetCookie).find((c) => c.name === refreshCookieName.name);
    expect(cookie?.value).toEqual(expect.any(String));

    const rotatedViaCookie = await request(t.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `${cookie!.name}=${cookie!.value}`);
    expect(rotatedViaCookie.status).toBe(200);
    documented.check('POST', '/auth/refresh', rotatedViaCookie);

    const viaBody = await request(t.http).post('/auth/login').send({ email, password: PASSWORD, refreshTokenDelivery: 'body' });
    expect(viaBody.status).toBe(200);
    documented.check('POST', '/auth/login', viaBody);
    expect(viaBody.body.refreshToken).toEqual(expect.any(String));

    const rotated = await request(t.http).post('/auth/refresh').send({ refreshToken: viaBody.body.refreshToken });
    expect(rotated.status).toBe(200);
    documented.check('POST', '/auth/refresh', rotated);
    const access = rotated.body.accessToken as string;

    const me = await request(t.http).get('/auth/me').set('Authorization', bearer(access));
    expect(me.status).toBe(200);
    documented.check('GET', '/auth/me', me);

    const sessions = await request(t.http).get('/auth/sessions').set('Authorization', bearer(access));
    expect(sessions.status).toBe(200);
    expect(sessions.body.sessions).toHaveLength(2);
    documented.check('GET', '/auth/sessions', sessions);

    const unknown = await request(t.http).delete('/auth/sessions/not-a-session').set('Authorization', bearer(access));
    expectProblem(unknown, 404, 'SESSION_NOT_FOUND');
    documented.check('DELETE', '/auth/sessions/{id}', unknown);

    const other = (sessions.body.sessions as Array<{ id: string; current: boolean }>).find((s) => !s.current)!;
    const revoked = await request(t.http).delete(`/auth/sessions/${other.id}`).set('Authorization', bearer(access));
    expect(revoked.status).toBe(204);
    documented.check('DELETE', '/auth/sessions/{id}', revoked);

    const logout = await request(t.http).post('/auth/logout').set('Authorization', bearer(access)).send({});
    expect(logout.status).toBe(204);
    documented.check('POST', '/auth/logout', logout);

    const after = await request(t.http).get('/auth/me').set('Authorization', bearer(access));
    expectProblem(after, 401, 'SESSION_REVOKED');
    documented.check('GET', '/auth/me', after);
  });

  it('errors: validation, size, media type, taken email, invalid credentials, missing and invalid token, missing refresh token', async () => {
    const email = uniqueEmail('openapi-errors');
    await request(t.http).post('/auth/register').send({ email, password: PASSWORD }).expect(201);

    const cases: Array<[string, string, Promise<Response>, number, string]> = [
      ['POST', '/auth/register', request(t.http).post('/auth/register').send({ email: 'not-an-address', password: PASSWORD, admin: true }), 400, 'VALIDATION_FAILED'],
      // (Malformed JSON is refused by this host's own parser, in its format, before auth: errors-limits.e2e-spec.)
      ['POST', '/auth/login', request(t.http).post('/auth/login').send({ email, password: 'x'.repeat(17 * 1024) }), 413, 'PAYLOAD_TOO_LARGE'],
      ['POST', '/auth/login', request(t.http).post('/auth/login').set('Content-Type', 'text/plain').send('email'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['POST', '/auth/register', request(t.http).post('/auth/register').send({ email, password: PASSWORD }), 409, 'EMAIL_TAKEN'],
      ['POST', '/auth/login', request(t.http).post('/auth/login').send({ email, password: 'wrong password entirely' }), 401, 'INVALID_CREDENTIALS'],
      ['GET', '/auth/me', request(t.http).get('/auth/me'), 401, 'ACCESS_TOKEN_MISSING'],
      ['GET', '/auth/sessions', request(t.http).get('/auth/sessions').set('Authorization', 'Bearer not.a.jwt'), 401, 'ACCESS_TOKEN_INVALID'],
      ['POST', '/auth/refresh', request(t.http).post('/auth/refresh').send({}), 401, 'REFRESH_TOKEN_MISSING'],
      ['POST', '/auth/refresh', request(t.http).post('/auth/refresh').send({ refreshToken: 'forged' }), 401, 'REFRESH_TOKEN_INVALID'],
    ];
    for (const [method, path, pending, status, code] of cases) {
      const res = await pending;
      expectProblem(res, status, code);
      documented.check(method, path, res);
    }
  });

  it('the browser profile: login (the sessionCookie scheme names its cookie), session state', async () => {
    const email = uniqueEmail('openapi-browser');
    await request(t.http).post('/auth/register').send({ email, password: PASSWORD }).expect(201);
    const login = await request(t.http)
      .post('/auth/browser/login')
      .set({ Origin: origin, 'Sec-Fetch-Site': 'same-origin', 'User-Agent': CHROME_ON_MACOS })
      .send({ email, password: PASSWORD });
    expect(login.status).toBe(200);
    documented.check('POST', '/auth/browser/login', login);
    const scheme = doc.components.securitySchemes.sessionCookie;
    const cookie = setCookies(login).map(parseSetCookie).find((c) => c.name === scheme.name);
    expect(cookie?.value).toEqual(expect.any(String));

    const state = await request(t.http).get('/auth/browser/session').set({ Cookie: `${cookie!.name}=${cookie!.value}`, 'User-Agent': CHROME_ON_MACOS });
    expect(state.status).toBe(200);
    documented.check('GET', '/auth/browser/session', state);

    const foreign = await request(t.http).post('/auth/browser/login').set({ Origin: 'https://evil.example' }).send({ email, password: PASSWORD });
    expectProblem(foreign, 403, 'CSRF_TOKEN_INVALID');
    documented.check('POST', '/auth/browser/login', foreign);
  });

  it('recovery, introspection (active, inactive, no client), JWKS, the sign-in page, metrics', async () => {
    const forgot = await request(t.http).post('/auth/password/forgot').send({ email: uniqueEmail('nobody') });
    expect(forgot.status).toBe(202);
    documented.check('POST', '/auth/password/forgot', forgot);

    const reset = await request(t.http).post('/auth/password/reset').send({ token: 'bogus', newPassword: PASSWORD });
    expectProblem(reset, 400, 'RECOVERY_TOKEN_INVALID');
    documented.check('POST', '/auth/password/reset', reset);

    const email = uniqueEmail('openapi-introspect');
    await request(t.http).post('/auth/register').send({ email, password: PASSWORD }).expect(201);
    const { body } = await request(t.http).post('/auth/login').send({ email, password: PASSWORD, refreshTokenDelivery: 'body' }).expect(200);
    const basic = `Basic ${Buffer.from(`orders:${SECRET}`).toString('base64')}`;
    for (const token of [body.accessToken as string, 'not-a-token']) {
      const res = await request(t.http).post('/auth/introspect').set('Authorization', basic).type('form').send({ token });
      expect(res.status).toBe(200);
      expect(res.body.active).toBe(token !== 'not-a-token');
      documented.check('POST', '/auth/introspect', res);
    }
    const noClient = await request(t.http).post('/auth/introspect').type('form').send({ token: body.accessToken });
    expectProblem(noClient, 401, 'CLIENT_UNAUTHORIZED');
    documented.check('POST', '/auth/introspect', noClient);

    for (const path of ['/.well-known/jwks.json', '/signin', '/signin/app.js', '/signin/app.css', '/metrics']) {
      const res = await request(t.http).get(path);
      expect([path, res.status]).toEqual([path, 200]);
      documented.check('GET', path, res);
    }
  });

  it('RATE_LIMITED as documented; with AUTH_OPENAPI=off neither /openapi.json nor /docs exists (the host 404)', async () => {
    const limited = await createTestApp({ redis: false, database: 'embedded', env: { AUTH_RATE_LIMIT_MAX: '1', AUTH_OPENAPI: 'off' } });
    try {
      await request(limited.http).post('/auth/register').send({ email: uniqueEmail('limited'), password: PASSWORD }).expect(201);
      const res = await request(limited.http).post('/auth/register').send({ email: uniqueEmail('limited'), password: PASSWORD });
      expectProblem(res, 429, 'RATE_LIMITED');
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      documented.check('POST', '/auth/register', res);
      for (const path of ['/openapi.json', '/docs', '/docs/']) {
        const off = await request(limited.http).get(path);
        expect([path, off.status, off.headers['content-type']]).toEqual([path, 404, expect.stringMatching(/^application\/json/)]);
      }
    } finally {
      await limited.close();
    }
  });
});
