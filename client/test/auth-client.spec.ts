import { AuthClientError, createAuthClient, type AuthClient, type AuthClientOptions } from '../src/auth-client';
import { FakeAuthServer, FakeChannels, FakeLocks } from './fakes';

/**
 * The client's refresh logic against a fake auth API whose refresh tokens rotate and whose reuse
 * detection ends the session, with tabs simulated as several clients sharing one cookie jar, one
 * Web Lock manager and one BroadcastChannel hub.
 */
describe('auth client (token mode)', () => {
  let server: FakeAuthServer;
  let locks: FakeLocks;
  let channels: FakeChannels;
  const clients: AuthClient[] = [];

  beforeEach(() => {
    server = new FakeAuthServer();
    locks = new FakeLocks();
    channels = new FakeChannels();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  const tab = (extra: AuthClientOptions = {}): AuthClient => {
    const c = createAuthClient({ baseUrl: server.origin, fetch: server.fetch, locks, channel: channels.open, peerWaitMs: 30, ...extra });
    clients.push(c);
    return c;
  };
  const settle = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const codeOf = async (res: Response): Promise<string | undefined> => ((await res.clone().json()) as { code?: string }).code;

  it('keeps the token in memory and sends it as a bearer token to the API origin only', async () => {
    const a = tab();
    const me = await a.login('a@example.com', 'pw');
    expect(me).toEqual({ sub: 'user-1', sid: 'sid-1' });
    expect(a.accessToken()).toMatch(/^ey/);
    expect((await a.fetch('/api/things')).status).toBe(200);

    const seen: Array<string | null> = [];
    const spy = tab({
      fetch: async (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization'));
        return server.fetch(input, init);
      },
    });
    await spy.fetch('https://elsewhere.test/x');
    await spy.fetch('/api/things'); // a new tab: takes the token from tab a
    await spy.fetch('https://elsewhere.test/y');
    expect(spy.accessToken()).toBe(a.accessToken());
    expect(seen).toEqual([null, `Bearer ${a.accessToken()}`, null]);
  });

  it('N concurrent requests that meet ACCESS_TOKEN_EXPIRED cause one refresh, then each is replayed (bodies included)', async () => {
    const a = tab();
    await a.login('a@example.com', 'pw');
    const before = a.accessToken();
    server.expireAccessTokens();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => a.fetch(`/api/items/${i}`, { method: 'POST', body: `item ${i}`, headers: { 'content-type': 'text/plain' } })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await results[7].json()).toMatchObject({ path: '/api/items/7', body: 'item 7' });
    expect(server.count('POST /auth/refresh')).toBe(1);
    expect(a.accessToken()).not.toBe(before);
    expect(server.reuseDetected).toBe(false);
  });

  it('a Request object is replayed from a copy (its body can only be read once)', async () => {
    const a = tab();
    await a.login('a@example.com', 'pw');
    server.expireAccessTokens();
    const res = await a.fetch(new Request(`${server.origin}/api/upload`, { method: 'PUT', body: 'payload' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ body: 'payload' });
  });

  it('two tabs, ten requests each after expiry: one refresh in all, no refresh-token reuse, both tabs end with the new token', async () => {
    const [a, b] = [tab(), tab()];
    await a.login('a@example.com', 'pw');
    await settle();
    expect(b.state()).toBe('signedIn');
    server.expireAccessTokens();
    const results = await Promise.all([...Array.from({ length: 10 }, () => a.fetch('/api/me')), ...Array.from({ length: 10 }, () => b.fetch('/api/me'))]);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(server.count('POST /auth/refresh')).toBe(1);
    expect(server.reuseDetected).toBe(false);
    expect(b.accessToken()).toBe(a.accessToken());
  });

  it('when the lock changes hands before the new token has reached the other tab, that tab asks and does not refresh again', async () => {
    const [a, b] = [tab({ peerWaitMs: 200 }), tab({ peerWaitMs: 200 })];
    await a.login('a@example.com', 'pw');
    await settle();
    // Messages now take longer than the lock hand-over.
    channels.delayMs = 40;
    server.expireAccessTokens();
    const first = a.fetch('/api/me');
    await settle(80); // a holds the lock and asks; b has not started yet
    const second = b.fetch('/api/me');
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(server.count('POST /auth/refresh')).toBe(1);
    expect(server.reuseDetected).toBe(false);
  });

  it('without the peer check a second tab would refresh with the rotated cookie: the fake does detect reuse (control)', async () => {
    // Two refreshes with the same cookie value, concurrently, as two tabs without the lock would send.
    await tab().login('a@example.com', 'pw');
    const [r1, r2] = await Promise.all([server.fetch(`${server.origin}/auth/refresh`, { method: 'POST' }), server.fetch(`${server.origin}/auth/refresh`, { method: 'POST' })]);
    expect([r1.status, r2.status].sort()).toEqual([200, 401]);
    expect(server.reuseDetected).toBe(true);
  });

  it('a new tab with no token takes one from an open tab, without a refresh', async () => {
    const a = tab();
    await a.login('a@example.com', 'pw');
    await settle();
    const late = tab();
    expect(late.accessToken()).toBeNull();
    expect((await late.fetch('/api/me')).status).toBe(200);
    expect(late.accessToken()).toBe(a.accessToken());
    expect(server.count('POST /auth/refresh')).toBe(0);
  });

  it('a new tab alone refreshes with the cookie (under the lock), once for all its first requests', async () => {
    await tab().login('a@example.com', 'pw');
    for (const c of clients.splice(0)) c.close();
    const fresh = tab();
    expect(await fresh.restore()).toEqual({ sub: 'user-1', sid: 'sid-1' });
    const again = tab();
    const results = await Promise.all(Array.from({ length: 5 }, () => again.fetch('/api/me')));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill(200));
    expect(server.count('POST /auth/refresh')).toBe(1); // `again` took fresh's token
    expect(locks.granted.length).toBeGreaterThanOrEqual(1);
  });

  it('another 401 (SESSION_REVOKED): signed out, every tab, and no refresh; later requests go without a token', async () => {
    const [a, b] = [tab(), tab()];
    const outA = jest.fn();
    const outB = jest.fn();
    a.onSignedOut(outA);
    b.onSignedOut(outB);
    await a.login('a@example.com', 'pw');
    await settle();
    server.revoked = true;
    const res = await a.fetch('/api/me');
    expect(await codeOf(res)).toBe('SESSION_REVOKED');
    await settle();
    expect(outA).toHaveBeenCalledWith('SESSION_REVOKED');
    expect(outB).toHaveBeenCalledWith('SESSION_REVOKED');
    expect(b.accessToken()).toBeNull();
    expect(await codeOf(await b.fetch('/api/me'))).toBe('ACCESS_TOKEN_MISSING');
    expect(await codeOf(await a.fetch('/api/me'))).toBe('ACCESS_TOKEN_MISSING');
    expect(server.count('POST /auth/refresh')).toBe(0);
    expect(outA).toHaveBeenCalledTimes(1);
  });

  it('a refused refresh: signed out (once, every tab), and each waiting request resolves with its original 401', async () => {
    const [a, b] = [tab(), tab()];
    const outB = jest.fn();
    b.onSignedOut(outB);
    await a.login('a@example.com', 'pw');
    await settle();
    server.expireAccessTokens();
    server.refreshStatus = 401;
    const results = await Promise.all(Array.from({ length: 5 }, () => a.fetch('/api/me')));
    expect(await Promise.all(results.map(codeOf))).toEqual(Array(5).fill('ACCESS_TOKEN_EXPIRED'));
    expect(server.count('POST /auth/refresh')).toBe(1);
    expect(a.state()).toBe('signedOut');
    await settle();
    expect(outB).toHaveBeenCalledTimes(1);
    expect(outB).toHaveBeenCalledWith('REFRESH_TOKEN_INVALID');
    // No loop: the next request does not try again.
    await a.fetch('/api/me');
    expect(server.count('POST /auth/refresh')).toBe(1);
  });

  it('a refresh that fails for another reason (503): the original 401s, still signed in, the next request tries again', async () => {
    const a = tab();
    const out = jest.fn();
    a.onSignedOut(out);
    await a.login('a@example.com', 'pw');
    server.expireAccessTokens();
    server.refreshStatus = 503;
    const results = await Promise.all(Array.from({ length: 3 }, () => a.fetch('/api/me')));
    expect(results.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(server.count('POST /auth/refresh')).toBe(1);
    expect(out).not.toHaveBeenCalled();
    server.refreshStatus = undefined;
    expect((await a.fetch('/api/me')).status).toBe(200);
    expect(server.count('POST /auth/refresh')).toBe(2);
  });

  it('logout everywhere reaches every tab: tokens dropped, onSignedOut fired, their next request makes no refresh', async () => {
    const [a, b] = [tab(), tab()];
    const outB = jest.fn();
    b.onSignedOut(outB);
    await a.login('a@example.com', 'pw');
    await settle();
    await a.logoutEverywhere();
    expect(server.count('POST /auth/logout-all')).toBe(1);
    await settle();
    expect(outB).toHaveBeenCalledWith('LOGOUT_ALL');
    expect(b.state()).toBe('signedOut');
    expect(b.accessToken()).toBeNull();
    expect(await codeOf(await b.fetch('/api/me'))).toBe('ACCESS_TOKEN_MISSING');
    expect(server.count('POST /auth/refresh')).toBe(0);
  });

  it('logout everywhere with an expired token refreshes first; a refusal (REAUTHENTICATION_REQUIRED) leaves the tab signed in', async () => {
    const a = tab();
    await a.login('a@example.com', 'pw');
    server.expireAccessTokens();
    await a.logoutEverywhere();
    expect(server.log).toEqual(['POST /auth/login', 'POST /auth/logout-all', 'POST /auth/refresh', 'POST /auth/logout-all']);

    const b = tab({
      fetch: async (input, init) =>
        String(input).endsWith('/auth/logout-all')
          ? new Response(JSON.stringify({ status: 401, code: 'REAUTHENTICATION_REQUIRED', title: 'Recent authentication required' }), {
              status: 401,
              headers: { 'content-type': 'application/problem+json' },
            })
          : server.fetch(input, init),
    });
    await b.login('a@example.com', 'pw');
    await expect(b.logoutEverywhere()).rejects.toMatchObject({ name: 'AuthClientError', code: 'REAUTHENTICATION_REQUIRED', status: 401 });
    expect(b.state()).toBe('signedIn');
  });

  it('plain logout signs out the other tabs of the browser too (they share the cookie)', async () => {
    const [a, b] = [tab(), tab()];
    await a.login('a@example.com', 'pw');
    await settle();
    await a.logout();
    await settle();
    expect([a.state(), b.state()]).toEqual(['signedOut', 'signedOut']);
    expect(server.cookie).toBeUndefined();
  });

  it('a login in one tab signs in a tab that was signed out', async () => {
    const [a, b] = [tab(), tab()];
    await a.login('a@example.com', 'pw');
    await a.logout();
    await settle();
    expect(b.state()).toBe('signedOut');
    await a.login('a@example.com', 'pw');
    await settle();
    expect(b.state()).toBe('signedIn');
    expect((await b.fetch('/api/me')).status).toBe(200);
  });

  it('login failures reject with the problem code', async () => {
    const a = tab({
      fetch: async () =>
        new Response(JSON.stringify({ status: 401, code: 'INVALID_CREDENTIALS', title: 'Invalid email or password' }), {
          status: 401,
          headers: { 'content-type': 'application/problem+json' },
        }),
    });
    const err = await a.login('a@example.com', 'wrong').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthClientError);
    expect(err).toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401, message: 'Invalid email or password' });
    expect(a.state()).toBe('unknown');
  });

  it('without Web Locks or BroadcastChannel: still one refresh per tab for concurrent requests', async () => {
    const a = tab({ locks: null, channel: null });
    await a.login('a@example.com', 'pw');
    server.expireAccessTokens();
    const results = await Promise.all(Array.from({ length: 6 }, () => a.fetch('/api/me')));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(server.count('POST /auth/refresh')).toBe(1);
  });
});

describe('auth client (session mode)', () => {
  const origin = 'https://app.test';
  const sent: Array<{ method: string; path: string; csrf: string | null; credentials?: RequestCredentials }> = [];
  let channels: FakeChannels;
  let revoked = false;
  const fetchFake = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const req = new Request(input, init);
    const path = new URL(req.url).pathname;
    sent.push({ method: req.method, path, csrf: req.headers.get('x-csrf-token'), credentials: init.credentials });
    if (revoked) {
      return new Response(JSON.stringify({ status: 401, code: 'SESSION_REVOKED' }), { status: 401, headers: { 'content-type': 'application/problem+json' } });
    }
    if (path === '/auth/browser/login' || path === '/auth/browser/session') {
      return new Response(JSON.stringify({ sub: 'user-1', sid: 'sid-1', csrfToken: 'csrf-1' }), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    return new Response(null, { status: 204 });
  };
  beforeEach(() => {
    sent.length = 0;
    revoked = false;
    channels = new FakeChannels();
  });
  const tab = (): AuthClient => createAuthClient({ mode: 'session', baseUrl: origin, fetch: fetchFake, channel: channels.open, locks: null });

  it('sends the CSRF token on unsafe methods only, always with the cookie (same-origin credentials)', async () => {
    const a = tab();
    expect(await a.restore()).toMatchObject({ sub: 'user-1', csrfToken: 'csrf-1' });
    await a.fetch('/auth/sessions');
    await a.fetch('/auth/sessions/x', { method: 'DELETE' });
    expect(sent.slice(1).map((s) => [s.method, s.csrf, s.credentials])).toEqual([
      ['GET', null, 'same-origin'],
      ['DELETE', 'csrf-1', 'same-origin'],
    ]);
    expect(a.accessToken()).toBeNull();
    a.close();
  });

  it('a 401 for the session cookie signs out every tab; logout does too', async () => {
    const [a, b] = [tab(), tab()];
    const outB = jest.fn();
    b.onSignedOut(outB);
    await a.login('a@example.com', 'pw');
    await b.restore();
    revoked = true;
    expect((await a.fetch('/auth/sessions')).status).toBe(401);
    await new Promise((r) => setTimeout(r, 10));
    expect(outB).toHaveBeenCalledWith('SESSION_REVOKED');

    revoked = false;
    await a.login('a@example.com', 'pw');
    await b.restore();
    await a.logout();
    expect(sent[sent.length - 1]).toMatchObject({ method: 'POST', path: '/auth/logout', csrf: 'csrf-1' });
    await new Promise((r) => setTimeout(r, 10));
    expect(outB).toHaveBeenLastCalledWith('LOGOUT');
    expect(b.state()).toBe('signedOut');
    a.close();
    b.close();
  });
});
