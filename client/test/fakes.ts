import type { ChannelLike, LockManagerLike } from '../src/auth-client';

/** Web Locks, exclusive mode: FIFO per name, abortable while queued (as navigator.locks). */
export class FakeLocks implements LockManagerLike {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Array<() => void>>();
  /** Callbacks that ran while holding the lock, per name. */
  readonly granted: string[] = [];

  request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = (): void => {
        this.held.add(name);
        this.granted.push(name);
        Promise.resolve()
          .then(callback)
          .then(resolve, reject)
          .finally(() => {
            this.held.delete(name);
            this.queues.get(name)?.shift()?.();
          });
      };
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      if (!this.held.has(name) && queue.length === 0) return run();
      queue.push(run);
      options.signal?.addEventListener('abort', () => {
        const i = queue.indexOf(run);
        if (i < 0) return;
        queue.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
}

/** BroadcastChannel between in-process "tabs": delivered to every other channel of the name, asynchronously, after `delayMs`. */
export class FakeChannels {
  private readonly channels = new Set<{ name: string; ch: ChannelLike }>();
  delayMs = 0;
  readonly sent: unknown[] = [];

  open = (name: string): ChannelLike => {
    const entry = { name, ch: undefined as unknown as ChannelLike };
    const ch: ChannelLike = {
      onmessage: null,
      postMessage: (message: unknown) => {
        this.sent.push(message);
        const data = structuredClone(message);
        for (const other of this.channels) {
          if (other === entry || other.name !== name) continue;
          setTimeout(() => other.ch.onmessage?.({ data }), this.delayMs);
        }
      },
      close: () => void this.channels.delete(entry),
    };
    entry.ch = ch;
    this.channels.add(entry);
    return ch;
  };
}

const b64url = (s: string): string => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const problem = (status: number, code: string): Response =>
  new Response(JSON.stringify({ type: 'about:blank', title: code, status, code }), { status, headers: { 'content-type': 'application/problem+json' } });
const json = (body: unknown): Response => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The auth API as the client sees it, with one browser's cookie jar shared by its tabs: access
 * tokens that can be expired on demand, and refresh tokens that rotate on use, where a second
 * use of one ends the session (REFRESH_TOKEN_REUSED), as the real server does.
 */
export class FakeAuthServer {
  readonly origin = 'https://app.test';
  /** The browser's HttpOnly refresh cookie (shared by all tabs). */
  cookie: string | undefined;
  latencyMs = 5;
  refreshStatus: number | undefined;
  readonly log: string[] = [];
  private seq = 0;
  private readonly live = new Set<string>();
  private readonly expired = new Set<string>();
  private readonly usedRefresh = new Set<string>();
  private liveRefresh: string | undefined;
  revoked = false;
  reuseDetected = false;

  count(entry: string): number {
    return this.log.filter((l) => l === entry).length;
  }

  /** Every access token issued so far stops working with ACCESS_TOKEN_EXPIRED. */
  expireAccessTokens(): void {
    for (const t of this.live) this.expired.add(t);
    this.live.clear();
  }

  private issue(): { accessToken: string; expiresIn: number } {
    const n = ++this.seq;
    const accessToken = `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify({ sub: 'user-1', sid: 'sid-1', n }))}.sig${n}`;
    this.live.add(accessToken);
    this.liveRefresh = `refresh-${n}`;
    this.cookie = this.liveRefresh;
    return { accessToken, expiresIn: 900 };
  }

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const route = `${req.method} ${url.pathname}`;
    this.log.push(route);
    const cookie = this.cookie; // what the browser sends with the request
    const auth = req.headers.get('authorization');
    await sleep(this.latencyMs);
    if (route === 'POST /auth/login') {
      this.revoked = false;
      return json({ ...this.issue(), tokenType: 'Bearer' });
    }
    if (route === 'POST /auth/refresh') {
      if (this.refreshStatus !== undefined) return problem(this.refreshStatus, this.refreshStatus === 401 ? 'REFRESH_TOKEN_INVALID' : 'STORE_UNAVAILABLE');
      if (cookie === undefined) return problem(401, 'REFRESH_TOKEN_MISSING');
      if (this.usedRefresh.has(cookie) || this.revoked) {
        this.reuseDetected ||= this.usedRefresh.has(cookie);
        this.revoke();
        return problem(401, 'REFRESH_TOKEN_REUSED');
      }
      this.usedRefresh.add(cookie);
      return json({ ...this.issue(), tokenType: 'Bearer' });
    }
    if (route === 'POST /auth/logout' || route === 'POST /auth/logout-all') {
      const token = auth?.replace(/^Bearer /, '');
      if (route === 'POST /auth/logout-all' && (token === undefined || !this.live.has(token))) {
        return problem(401, token && this.expired.has(token) ? 'ACCESS_TOKEN_EXPIRED' : 'ACCESS_TOKEN_MISSING');
      }
      this.revoke();
      return new Response(null, { status: 204 });
    }
    // Any other route: an API that needs the bearer token.
    if (!auth) return problem(401, 'ACCESS_TOKEN_MISSING');
    const token = auth.replace(/^Bearer /, '');
    if (this.revoked) return problem(401, 'SESSION_REVOKED');
    if (this.expired.has(token)) return problem(401, 'ACCESS_TOKEN_EXPIRED');
    if (!this.live.has(token)) return problem(401, 'ACCESS_TOKEN_INVALID');
    return json({ ok: true, path: url.pathname, body: req.method === 'GET' ? null : await req.text() });
  };

  private revoke(): void {
    this.revoked = true;
    this.cookie = undefined;
    for (const t of this.live) this.expired.delete(t);
    this.live.clear();
  }
}
