import { createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Body,
  ConflictException,
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  Post,
  Req,
  UnprocessableEntityException,
  UseGuards,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import request from 'supertest';
import { AuthenticationGuard, AuthModule, CurrentUser, Public, RequireRecentAuth, RequireRole, type AuthModuleOptions, type AuthPrincipal } from '../../src/auth';
import { accessTokenFor } from '../../src/auth/testing';
import { ConfigModule, loadConfig } from '../../src/config';
import { UsersModule } from '../../src/users';
import { createTestDatabase } from '../support/postgres';
import { startRedis, type RedisHarness } from '../support/redis-server';
import { CHROME_ON_MACOS, decodeJwt, expectProblem, parseSetCookie, PASSWORD, setCookies, uniqueEmail } from '../support/test-app';

/**
 * Auth as a guest in someone else's application: a host started the way `nest new` writes it
 * (NestFactory.create(AppModule): Nest's default JSON and form parsers, no cookie-parser, no
 * filters, no helmet), with a feature module of its own that throws Nest's exceptions and takes
 * form and larger JSON bodies. Importing AuthModule must change nothing about those routes, and
 * auth's whole lifecycle must work there. Then the opt-in guard and passport's AuthGuard('jwt').
 */

@Controller('orders')
class OrdersController {
  @Post(':id/pay')
  pay(@Param('id') id: string): never {
    throw new ConflictException(`order ${id} is already paid`);
  }

  @Post()
  create(): never {
    throw new UnprocessableEntityException('the basket is empty');
  }

  @Get(':id')
  find(@Param('id') id: string): never {
    throw new NotFoundException(`order ${id} not found`);
  }

  @Post('form')
  form(@Body() body: Record<string, string>): Record<string, string> {
    return body;
  }

  @Post('import')
  import(@Body() body: { items: string[] }): { count: number } {
    return { count: body.items.length };
  }

  @Public()
  @Get('catalogue/open')
  open(): { open: true } {
    return { open: true };
  }

  @Get('mine/list')
  mine(@CurrentUser() user: AuthPrincipal): { owner: string } {
    return { owner: user.sub };
  }
}

@Module({ controllers: [OrdersController] })
class OrdersModule {}

/** The opt-in way: no global guard; the host guards what it wants. */
@Controller('opt-in')
class OptInController {
  @Get('open')
  open(): { open: true } {
    return { open: true };
  }

  @UseGuards(AuthenticationGuard)
  @Get('me')
  me(@CurrentUser() user: AuthPrincipal): AuthPrincipal {
    return user;
  }

  // Listed before the guard on purpose: RequireRecentAuth authenticates by itself when it runs first.
  @RequireRecentAuth(60)
  @UseGuards(AuthenticationGuard)
  @Post('transfer')
  transfer(@CurrentUser('sub') sub: string): { by: string } {
    return { by: sub };
  }

  @RequireRole('admin')
  @UseGuards(AuthenticationGuard)
  @Get('admin')
  admin(@CurrentUser('claims') claims: AuthPrincipal['claims']): AuthPrincipal['claims'] {
    return claims;
  }

  @UseGuards(AuthGuard('jwt'))
  @RequireRole('admin')
  @Get('passport-admin')
  passportAdmin(@CurrentUser('claims') claims: AuthPrincipal['claims']): AuthPrincipal['claims'] {
    return claims;
  }

  /** The NestJS docs' recipe, which many hosts already have. */
  @UseGuards(AuthGuard('jwt'))
  @Get('passport')
  passport(@Req() req: { user?: unknown }, @CurrentUser() user: AuthPrincipal): { user: unknown; same: boolean } {
    return { user: req.user, same: req.user === user };
  }
}

@Module({ controllers: [OptInController] })
class OptInModule {}

interface Host {
  readonly app: INestApplication;
  readonly http: Server;
}

const captured: Array<{ message: unknown; context?: string }> = [];
/** A host's Nest logger, handed to auth for its audit trail. */
const hostLogger: LoggerService = {
  log: (message: unknown, context?: string) => void captured.push({ message, context }),
  error: () => undefined,
  warn: () => undefined,
};

describe('auth as a guest in a host application (plain NestFactory bootstrap)', () => {
  let redis: RedisHarness;
  let hostRedis: Redis;
  let keysDir: string;
  let dropDb: () => Promise<void>;
  let databaseUrl: string;
  const hosts: Host[] = [];

  async function boot(feature: DynamicModule['module'], { globalGuard, ...options }: AuthModuleOptions & { globalGuard?: boolean }, bodyParser = true): Promise<Host> {
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.withConfig(config),
        AuthModule.forRootAsync({
          imports: [UsersModule], // provides CREDENTIALS_PORT
          globalGuard,
          useFactory: (): AuthModuleOptions => ({
            keys: { privateKeyPath: join(keysDir, 'private.pem'), publicKeyPath: join(keysDir, 'public.pem') },
            rateLimit: { max: 100000 },
            deviceBinding: 'off',
            auditLogger: hostLogger,
            ...options,
          }),
        }),
        feature as NonNullable<DynamicModule['module']>,
      ],
    })
      .setLogger(false as never)
      .compile();
    // As `nest new` writes it: nothing but the defaults (Nest's body parsers unless a host turns them off).
    const app = moduleRef.createNestApplication(bodyParser ? undefined : { bodyParser: false });
    await app.listen(0, '127.0.0.1');
    const host = { app, http: app.getHttpServer() as Server };
    hosts.push(host);
    return host;
  }

  beforeAll(async () => {
    redis = await startRedis();
    hostRedis = new Redis(redis.url);
    keysDir = mkdtempSync(join(tmpdir(), 'host-keys-'));
    const db = await createTestDatabase();
    databaseUrl = db.url;
    dropDb = () => db.drop();
  });

  afterAll(async () => {
    for (const h of hosts) await h.app.close();
    hostRedis?.disconnect();
    await dropDb?.();
    await redis?.stop();
    rmSync(keysDir, { recursive: true, force: true });
  });

  async function signUp(http: Server, tag: string): Promise<{ email: string; accessToken: string; refreshToken: string; sub: string }> {
    const email = uniqueEmail(tag);
    expect((await request(http).post('/auth/register').send({ email, password: PASSWORD })).status).toBe(201);
    const res = await request(http).post('/auth/login').send({ email, password: PASSWORD, refreshTokenDelivery: 'body' });
    expect(res.status).toBe(200);
    return { email, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken, sub: decodeJwt(res.body.accessToken).payload.sub as string };
  }

  describe('the global guard (default), with the host passing its own Redis client', () => {
    let h: Host;
    let user: Awaited<ReturnType<typeof signUp>>;
    beforeAll(async () => {
      h = await boot(OrdersModule, { redis: hostRedis, auditLogger: hostLogger });
      user = await signUp(h.http, 'host');
    });
    const authed = (r: request.Test) => r.set('Authorization', `Bearer ${user.accessToken}`);

    it("the host's exceptions keep their status, message and format", async () => {
      const paid = await authed(request(h.http).post('/orders/42/pay'));
      expect(paid.status).toBe(409);
      expect(paid.headers['content-type']).toMatch(/^application\/json/);
      expect(paid.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'order 42 is already paid' });
      const empty = await authed(request(h.http).post('/orders'));
      expect(empty.status).toBe(422);
      expect(empty.body).toEqual({ statusCode: 422, error: 'Unprocessable Entity', message: 'the basket is empty' });
      const missing = await authed(request(h.http).get('/orders/7'));
      expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'order 7 not found' });
      const unknown = await authed(request(h.http).get('/no/such/route'));
      expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Cannot GET /no/such/route' });
    });

    it("the host's body parsers and sizes: a form, and JSON far over auth's 16 KiB", async () => {
      const form = await authed(request(h.http).post('/orders/form').type('form').send('sku=a-1&qty=3'));
      expect(form.status).toBe(201);
      expect(form.body).toEqual({ sku: 'a-1', qty: '3' });
      const items = Array.from({ length: 3000 }, (_, i) => `item-${i}`);
      const big = await authed(request(h.http).post('/orders/import').send({ items }));
      expect(JSON.stringify({ items }).length).toBeGreaterThan(16 * 1024);
      expect(big.status).toBe(201);
      expect(big.body).toEqual({ count: 3000 });
    });

    it("what auth's guard refuses on a host route is auth's problem+json; @Public and @CurrentUser work", async () => {
      expectProblem(await request(h.http).get('/orders/mine/list'), 401, 'ACCESS_TOKEN_MISSING');
      expectProblem(await request(h.http).get('/orders/mine/list').set('Authorization', 'Bearer x.y.z'), 401, 'ACCESS_TOKEN_INVALID');
      expect((await request(h.http).get('/orders/catalogue/open')).body).toEqual({ open: true });
      expect((await authed(request(h.http).get('/orders/mine/list'))).body).toEqual({ owner: user.sub });
    });

    it("auth's routes keep their body policy over the host's parsers: 415 for a form or text, 413 past 16 KiB", async () => {
      const form = await request(h.http).post('/auth/login').type('form').send(`email=${encodeURIComponent(user.email)}&password=${encodeURIComponent(PASSWORD)}`);
      expectProblem(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectProblem(await request(h.http).post('/auth/login').set('Content-Type', 'text/plain').send('{}'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      const big = JSON.stringify({ email: user.email, password: 'x'.repeat(20 * 1024) });
      expectProblem(await request(h.http).post('/auth/login').set('Content-Type', 'application/json').send(big), 413, 'PAYLOAD_TOO_LARGE');
      expectProblem(await request(h.http).post('/auth/login').send({ email: user.email, password: PASSWORD, admin: true }), 400, 'VALIDATION_FAILED');
    });

    it('refresh by cookie works without cookie-parser, and its headers are no-store', async () => {
      const loginRes = await request(h.http).post('/auth/login').send({ email: user.email, password: PASSWORD });
      expect(loginRes.status).toBe(200);
      expect(loginRes.headers['cache-control']).toBe('no-store');
      const cookie = setCookies(loginRes).map(parseSetCookie).find((c) => c.name === '__Secure-refresh_token');
      expect(cookie).toBeDefined();
      const refreshed = await request(h.http).post('/auth/refresh').set('Sec-Fetch-Site', 'same-origin').set('Cookie', `__Secure-refresh_token=${cookie!.value}`);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.accessToken).toEqual(expect.any(String));
      // The old cookie is now the previous token: its successor has been handed out.
      const rotated = setCookies(refreshed).map(parseSetCookie).find((c) => c.name === '__Secure-refresh_token');
      expect(rotated!.value).not.toBe(cookie!.value);
    });

    it('the browser session: cookie sign-in, CSRF on unsafe methods, sign-out', async () => {
      const origin = `http://127.0.0.1:${(h.http.address() as { port: number }).port}`;
      const same = { Origin: origin, 'Sec-Fetch-Site': 'same-origin', 'User-Agent': CHROME_ON_MACOS };
      const signIn = await request(h.http).post('/auth/browser/login').set(same).send({ email: user.email, password: PASSWORD });
      expect(signIn.status).toBe(200);
      const session = setCookies(signIn).map(parseSetCookie).find((c) => c.name === '__Host-session')!;
      const jar = `__Host-session=${session.value}`;
      expect((await request(h.http).get('/orders/mine/list').set('Cookie', jar)).body).toEqual({ owner: user.sub });
      expectProblem(await request(h.http).post('/orders/form').set(same).set('Cookie', jar).type('form').send('a=1'), 403, 'CSRF_TOKEN_INVALID');
      const withToken = await request(h.http).post('/orders/form').set(same).set({ Cookie: jar, 'X-CSRF-Token': signIn.body.csrfToken }).type('form').send('a=1');
      expect(withToken.status).toBe(201);
      const out = await request(h.http).post('/auth/logout').set(same).set({ Cookie: jar, 'X-CSRF-Token': signIn.body.csrfToken });
      expect(out.status).toBe(204);
      expectProblem(await request(h.http).get('/orders/mine/list').set('Cookie', jar), 401, 'SESSION_REVOKED');
    });

    it("the sign-in page brings its own CSP and anti-framing headers (the host has no helmet)", async () => {
      const page = await request(h.http).get('/signin');
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.headers['cache-control']).toBe('no-store');
    });

    it("the audit trail goes to the host's logger; sessions live in the host's Redis", async () => {
      const lines = captured.filter((c) => c.context === 'AuthAudit').map((c) => c.message as Record<string, unknown>);
      expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ audit: true, event: 'login.success' })]));
      const keys = await hostRedis.keys('*');
      expect(keys.some((k) => k.includes(user.sub))).toBe(true);
      // Auth opened connections of its own from the host's client; the host's client is still the host's.
      expect(hostRedis.status).toBe('ready');
    });
  });

  describe('a host without body parsers', () => {
    let h: Host;
    beforeAll(async () => {
      h = await boot(OrdersModule, {}, false);
    });

    it("auth reads its own bodies, with its codes for every refusal", async () => {
      const post = (raw: string, type = 'application/json') => request(h.http).post('/auth/login').set('Content-Type', type).send(raw);
      expectProblem(await post('{"email": '), 400, 'MALFORMED_JSON');
      expectProblem(await post('"just a string"'), 400, 'MALFORMED_JSON');
      expectProblem(await post('{}', 'application/json; charset=koi8-r'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectProblem(await post('a=1', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectProblem(await post(JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(17 * 1024) })), 413, 'PAYLOAD_TOO_LARGE');
      expectProblem(await post(JSON.stringify({ email: uniqueEmail('nobody'), password: PASSWORD })), 401, 'INVALID_CREDENTIALS');
    });
  });

  describe('opt-in (globalGuard: false): @UseGuards(AuthenticationGuard), and passport AuthGuard("jwt")', () => {
    let h: Host;
    let user: Awaited<ReturnType<typeof signUp>>;
    beforeAll(async () => {
      h = await boot(OptInModule, { redisUrl: redis.url, globalGuard: false });
      user = await signUp(h.http, 'opt-in');
    });
    /** A token signed with the server's own key: genuine but for the claims we choose. */
    const signed = (head: string, claims: Record<string, unknown>): string => {
      const input = `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      const key = createPrivateKey(readFileSync(join(keysDir, 'private.pem')));
      return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    };
    const get = (path: string, token?: string) => {
      const r = request(h.http).get(path);
      return token ? r.set('Authorization', `Bearer ${token}`) : r;
    };

    it('@RequireRole works with the opt-in guard and with passport: 403 FORBIDDEN without the role', async () => {
      const admin = await accessTokenFor(h.app, user.sub, { claims: { roles: ['admin'] } });
      const viewer = await accessTokenFor(h.app, user.sub, { claims: { roles: ['viewer'] } });
      for (const path of ['/opt-in/admin', '/opt-in/passport-admin']) {
        const ok = await get(path, admin);
        expect(ok.status).toBe(200);
        expect(ok.body).toEqual({ roles: ['admin'] });
        expectProblem(await get(path, viewer), 403, 'FORBIDDEN');
        expectProblem(await get(path, user.accessToken), 403, 'FORBIDDEN');
        expectProblem(await get(path), 401, 'ACCESS_TOKEN_MISSING');
      }
    });

    it('routes without a guard stay open: nothing is installed app-wide', async () => {
      expect((await get('/opt-in/open')).body).toEqual({ open: true });
    });

    it('both guards accept a valid token and give the same principal as @CurrentUser()', async () => {
      const mine = await get('/opt-in/me', user.accessToken);
      expect(mine.status).toBe(200);
      expect(mine.body).toEqual(expect.objectContaining({ sub: user.sub, via: 'bearer' }));
      const viaPassport = await get('/opt-in/passport', user.accessToken);
      expect(viaPassport.status).toBe(200);
      expect(viaPassport.body).toEqual({ user: mine.body, same: true });
      const transfer = await request(h.http).post('/opt-in/transfer').set('Authorization', `Bearer ${user.accessToken}`);
      expect(transfer.status).toBe(201);
      expect(transfer.body).toEqual({ by: user.sub });
    });

    it('both refuse missing, forged and expired tokens with the same codes', async () => {
      for (const path of ['/opt-in/me', '/opt-in/passport']) {
        expectProblem(await get(path), 401, 'ACCESS_TOKEN_MISSING');
        const [head, payload, sig] = user.accessToken.split('.');
        const tampered = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
        const forged = `${head}.${Buffer.from(JSON.stringify({ ...tampered, sub: 'someone-else' })).toString('base64url')}.${sig}`;
        expectProblem(await get(path, forged), 401, 'ACCESS_TOKEN_INVALID');
        const now = Math.floor(Date.now() / 1000);
        expectProblem(await get(path, signed(head, { ...tampered, iat: now - 1000, exp: now - 100 })), 401, 'ACCESS_TOKEN_EXPIRED');
        expectProblem(await get(path, 'not-a-jwt'), 401, 'ACCESS_TOKEN_INVALID');
      }
      expectProblem(await request(h.http).post('/opt-in/transfer'), 401, 'ACCESS_TOKEN_MISSING');
    });

    it('both refuse a revoked session at once', async () => {
      const other = await signUp(h.http, 'opt-in-revoked');
      expect((await get('/opt-in/passport', other.accessToken)).status).toBe(200);
      expect((await request(h.http).post('/auth/logout').set('Authorization', `Bearer ${other.accessToken}`)).status).toBe(204);
      expectProblem(await get('/opt-in/me', other.accessToken), 401, 'SESSION_REVOKED');
      expectProblem(await get('/opt-in/passport', other.accessToken), 401, 'SESSION_REVOKED');
    });
  });
});
