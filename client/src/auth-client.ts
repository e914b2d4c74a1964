/**
 * @auth-domain/client: a small browser client for the auth context's two browser profiles, with
 * no runtime dependencies.
 *
 * - mode 'token' (default): the access token lives in this object's memory only (never
 *   localStorage, sessionStorage or a script-readable cookie: an XSS payload that runs later, or
 *   a copied profile, finds nothing at rest). The refresh token stays in the server's HttpOnly
 *   refresh cookie. A 401 `ACCESS_TOKEN_EXPIRED` triggers one refresh for every waiting request of
 *   every open tab, then the requests are replayed.
 * - mode 'session': the HttpOnly browser-session cookie authenticates; the client adds the
 *   `X-CSRF-Token` header to unsafe methods. There is nothing to refresh.
 *
 * Tabs: the refresh token rotates on every use, and the server treats a second use of an old one
 * as theft (every session of the user ends). Two tabs must therefore never refresh with the same
 * cookie. Refreshes run under a Web Lock shared by the origin's tabs; the tab holding it first
 * checks whether another tab already refreshed (a newer token generation, received over a
 * BroadcastChannel or asked for from the other tabs) and only refreshes if none did. New tokens
 * and sign-outs are broadcast, so every tab follows.
 */

export type AuthClientMode = 'token' | 'session';
export type AuthState = 'unknown' | 'signedIn' | 'signedOut';

/** The parts of the Web Locks API the client uses (navigator.locks). */
export interface LockManagerLike {
  request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T>;
}

/** The parts of BroadcastChannel the client uses. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

export interface AuthClientOptions {
  /** Origin (and optional path prefix) of the auth API, e.g. `https://app.example.com`. Default: the page's origin. */
  baseUrl?: string;
  /** The fetch to wrap. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Default 'token'. */
  mode?: AuthClientMode;
  /** Name of the BroadcastChannel (and prefix of the Web Lock) shared by the tabs. Default `auth-client` (`auth-client-session` in session mode). */
  channelName?: string;
  /** How long a tab about to refresh waits for another tab to offer a newer token. Default 100 ms. */
  peerWaitMs?: number;
  /** Override of navigator.locks (tests); null: no cross-tab lock. */
  locks?: LockManagerLike | null;
  /** Override of `new BroadcastChannel(name)` (tests); null: no cross-tab messages. */
  channel?: ((name: string) => ChannelLike) | null;
}

/** An RFC 9457 problem as the auth context sends it. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly code?: string;
  readonly detail?: string;
  readonly [key: string]: unknown;
}

/** Thrown by login, logout, logoutEverywhere when the server refuses. */
export class AuthClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly problem: Problem | null,
  ) {
    super(problem?.title ?? `HTTP ${status}`);
    this.name = 'AuthClientError';
  }
}

/** Who is signed in: the token's claims (token mode) or the browser session's state (session mode). */
export interface SignedIn {
  readonly sub: string;
  readonly sid: string;
  /** Session mode: the CSRF token and the session's limits, as GET /auth/browser/session returns them. */
  readonly [key: string]: unknown;
}

export type SignedOutListener = (reason: string) => void;

export interface AuthClient {
  readonly mode: AuthClientMode;
  /** Signs in; rejects with AuthClientError (its `code`, e.g. INVALID_CREDENTIALS, EMAIL_NOT_VERIFIED). */
  login(email: string, password: string): Promise<SignedIn>;
  /**
   * Finds out whether this browser is signed in: token mode takes a newer token from another tab,
   * else refreshes with the cookie (under the lock); session mode asks GET /auth/browser/session.
   */
  restore(): Promise<SignedIn | null>;
  /**
   * fetch with the credentials attached (bearer token to the API's origin only; or the CSRF
   * header). On 401 ACCESS_TOKEN_EXPIRED: one shared refresh, then the request is replayed once.
   * If the refresh fails, the original 401 response is returned (and, when the server refused
   * the refresh token, the client is signed out). Never rejects for an HTTP status.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Ends this browser's session (every tab of it). */
  logout(): Promise<void>;
  /** Ends every session of the user, everywhere (needs a recent sign-in: REAUTHENTICATION_REQUIRED otherwise). */
  logoutEverywhere(): Promise<void>;
  /** The current access token (token mode), or null. For a fetch the wrapper does not cover; never store it. */
  accessToken(): string | null;
  state(): AuthState;
  /** Called once per sign-out of this tab, whichever tab or response caused it. Returns the unsubscribe. */
  onSignedOut(listener: SignedOutListener): () => void;
  /** Leaves the channel; pending lock requests are abandoned. */
  close(): void;
}

/** The server's 401 codes after which this credential will not work again: stop using it, no refresh. */
const SIGNED_OUT_CODES: ReadonlySet<string> = new Set([
  'ACCESS_TOKEN_INVALID',
  'ACCESS_TOKEN_MISSING',
  'SESSION_REVOKED',
  'SESSION_EXPIRED',
  'SESSION_COOKIE_INVALID',
]);
const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** A token offered to another tab must still have this long to live (by this tab's clock). */
const OFFER_MARGIN_MS = 5_000;

type Message =
  | { t: 'token'; gen: number; token: string; expiresAt: number }
  | { t: 'signed-out'; gen: number; reason: string }
  | { t: 'query'; gen: number };

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && typeof (m as { gen?: unknown }).gen === 'number';
}

async function problemOf(res: Response): Promise<Problem | null> {
  if (!/^application\/(problem\+)?json/i.test(res.headers.get('content-type') ?? '')) return null;
  try {
    return (await res.clone().json()) as Problem;
  } catch {
    return null;
  }
}

function claimsOf(token: string): SignedIn {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  const claims = JSON.parse(json) as { sub: string; sid: string };
  return { sub: claims.sub, sid: claims.sid };
}

export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  return new Client(options);
}

class Client implements AuthClient {
  readonly mode: AuthClientMode;
  private readonly base: string;
  private readonly apiOrigin: string;
  private readonly doFetch: typeof fetch;
  private readonly locks: LockManagerLike | null;
  private readonly channel: ChannelLike | null;
  private readonly lockName: string;
  private readonly peerWaitMs: number;

  private current: AuthState = 'unknown';
  private token: string | null = null;
  private expiresAt = 0;
  private csrf: string | null = null;
  /**
   * Generation of this tab's credential state: raised by every new token and every sign-out, and
   * carried by the messages, so a tab adopts only what is newer than what it has.
   */
  private gen = 0;
  private renewal: Promise<boolean> | null = null;
  /** Called on every change of `gen` (a renewal waiting for the lock may be satisfied by another tab). */
  private readonly watchers = new Set<() => void>();
  private readonly listeners = new Set<SignedOutListener>();
  private closed = false;

  constructor(o: AuthClientOptions) {
    this.mode = o.mode ?? 'token';
    const pageOrigin = typeof location === 'undefined' ? undefined : location.origin;
    this.base = (o.baseUrl ?? pageOrigin ?? '').replace(/\/+$/, '');
    this.apiOrigin = new URL(this.base || 'http://invalid', pageOrigin).origin;
    const globalFetch = typeof fetch === 'undefined' ? undefined : fetch;
    const f = o.fetch ?? globalFetch;
    if (!f) throw new Error('createAuthClient: no fetch available');
    // Called unbound, window.fetch throws "Illegal invocation".
    this.doFetch = (input, init) => f.call(globalThis, input, init);
    const nav = typeof navigator === 'undefined' ? undefined : (navigator as { locks?: LockManagerLike });
    this.locks = o.locks !== undefined ? o.locks : (nav?.locks ?? null);
    const name = o.channelName ?? (this.mode === 'token' ? 'auth-client' : 'auth-client-session');
    const open = o.channel !== undefined ? o.channel : typeof BroadcastChannel === 'undefined' ? null : (n: string) => new BroadcastChannel(n) as ChannelLike;
    this.channel = open ? open(name) : null;
    if (this.channel) this.channel.onmessage = (e) => this.receive(e.data);
    this.lockName = `${name}:refresh`;
    this.peerWaitMs = o.peerWaitMs ?? 100;
  }

  accessToken(): string | null {
    return this.token;
  }

  state(): AuthState {
    return this.current;
  }

  onSignedOut(listener: SignedOutListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.channel?.close();
    // Renewals waiting for the lock give up.
    for (const w of [...this.watchers]) w();
  }

  async login(email: string, password: string): Promise<SignedIn> {
    const path = this.mode === 'token' ? '/auth/login' : '/auth/browser/login';
    const res = await this.doFetch(this.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email, password }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (!res.ok) throw await this.errorOf(res);
    const body = (await res.json()) as { accessToken?: string; expiresIn?: number; csrfToken?: string } & SignedIn;
    if (this.mode === 'session') {
      this.csrf = body.csrfToken ?? null;
      this.current = 'signedIn';
      return body;
    }
    this.adopt(this.nextGen(), body.accessToken as string, Date.now() + (body.expiresIn ?? 0) * 1000, true);
    return claimsOf(body.accessToken as string);
  }

  async restore(): Promise<SignedIn | null> {
    if (this.mode === 'session') {
      const res = await this.doFetch(this.base + '/auth/browser/session', {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      if (res.ok) {
        const state = (await res.json()) as SignedIn & { csrfToken: string };
        this.csrf = state.csrfToken;
        this.current = 'signedIn';
        return state;
      }
      if (res.status === 401) this.signOut(((await problemOf(res))?.code as string | undefined) ?? 'SIGNED_OUT', this.current === 'signedIn');
      return null;
    }
    if (this.token === null) await this.renew(this.gen);
    return this.token === null ? null : claimsOf(this.token);
  }

  async fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const target = typeof input === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(input) ? this.base + input : input;
    const url = new URL(target instanceof Request ? target.url : String(target), this.base || undefined);
    const ours = url.origin === this.apiOrigin;
    if (!ours) return this.doFetch(target, init);
    const method = (init?.method ?? (target instanceof Request ? target.method : 'GET')).toUpperCase();
    // A Request's body can be read once: keep a copy for the replay.
    const spare = target instanceof Request ? target.clone() : target;
    if (this.mode === 'session') return this.sessionFetch(target, init, method);

    // A new tab has no token yet: take one from another tab, or refresh (under the lock).
    if (this.token === null && this.current === 'unknown') await this.renew(this.gen);
    const gen = this.gen;
    const sentToken = this.token;
    const first = await this.send(target, init, sentToken);
    if (first.status !== 401 || sentToken === null) return first;
    const code = (await problemOf(first))?.code;
    if (code !== 'ACCESS_TOKEN_EXPIRED') {
      if (code !== undefined && SIGNED_OUT_CODES.has(code) && this.gen === gen) this.signOut(code, true);
      return first;
    }
    if (!(await this.renew(gen))) return first;
    return this.send(spare, init, this.token);
  }

  async logout(): Promise<void> {
    const res =
      this.mode === 'session'
        ? await this.sessionFetch(this.base + '/auth/logout', { method: 'POST' }, 'POST')
        : await this.send(this.base + '/auth/logout', { method: 'POST' }, this.token);
    // An already-ended session is a signed-out browser too; anything else (503) may be retried.
    const code = res.status === 401 ? (await problemOf(res))?.code : undefined;
    if (!res.ok && !(code !== undefined && (SIGNED_OUT_CODES.has(code) || code.startsWith('REFRESH_TOKEN')))) throw await this.errorOf(res);
    this.signOut('LOGOUT', true);
  }

  async logoutEverywhere(): Promise<void> {
    const res = await this.fetch(this.base + '/auth/logout-all', { method: 'POST' });
    if (!res.ok) throw await this.errorOf(res);
    this.signOut('LOGOUT_ALL', true);
  }

  // --- internals ---------------------------------------------------------------------------------

  private send(input: RequestInfo | URL, init: RequestInit | undefined, token: string | null): Promise<Response> {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (token !== null) headers.set('authorization', `Bearer ${token}`);
    return this.doFetch(input, { ...init, headers, credentials: init?.credentials ?? 'same-origin' });
  }

  private async sessionFetch(input: RequestInfo | URL, init: RequestInit | undefined, method: string): Promise<Response> {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (this.csrf !== null && UNSAFE_METHODS.has(method)) headers.set('x-csrf-token', this.csrf);
    const res = await this.doFetch(input, { ...init, headers, credentials: 'same-origin' });
    if (res.status === 401 && this.current === 'signedIn') {
      const code = (await problemOf(res))?.code;
      if (code !== undefined && SIGNED_OUT_CODES.has(code)) this.signOut(code, true);
    }
    return res;
  }

  private async errorOf(res: Response): Promise<AuthClientError> {
    const problem = await problemOf(res);
    return new AuthClientError(res.status, (problem?.code as string | undefined) ?? `HTTP_${res.status}`, problem);
  }

  private nextGen(): number {
    // Time-based so that tabs agree on the order without talking; +1 keeps it strictly rising.
    return Math.max(Date.now(), this.gen + 1);
  }

  private changed(): void {
    for (const w of [...this.watchers]) w();
  }

  private adopt(gen: number, token: string, expiresAt: number, broadcast: boolean): void {
    this.gen = gen;
    this.token = token;
    this.expiresAt = expiresAt;
    this.current = 'signedIn';
    if (broadcast) this.post({ t: 'token', gen, token, expiresAt });
    this.changed();
  }

  private signOut(reason: string, broadcast: boolean, gen = this.nextGen()): void {
    const wasSignedOut = this.current === 'signedOut';
    this.gen = gen;
    this.token = null;
    this.csrf = null;
    this.current = 'signedOut';
    if (broadcast) this.post({ t: 'signed-out', gen, reason });
    this.changed();
    if (wasSignedOut) return;
    for (const l of [...this.listeners]) {
      try {
        l(reason);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private post(message: Message): void {
    if (!this.closed) this.channel?.postMessage(message);
  }

  private receive(data: unknown): void {
    if (this.closed || !isMessage(data)) return;
    if (data.t === 'query') {
      // Another tab is about to refresh: offer our token if it is newer than the one it has.
      if (this.token !== null && this.gen > data.gen && this.expiresAt - OFFER_MARGIN_MS > Date.now()) {
        this.post({ t: 'token', gen: this.gen, token: this.token, expiresAt: this.expiresAt });
      }
      return;
    }
    if (data.gen <= this.gen) return;
    if (data.t === 'token' && this.mode === 'token' && typeof data.token === 'string') this.adopt(data.gen, data.token, data.expiresAt, false);
    else if (data.t === 'signed-out') this.signOut(typeof data.reason === 'string' ? data.reason : 'SIGNED_OUT', false, data.gen);
  }

  /**
   * Resolves true once this tab holds a token newer than generation `stale`, false if it could
   * not get one. One renewal per tab at a time; across tabs, the Web Lock.
   */
  private renew(stale: number): Promise<boolean> {
    if (this.gen > stale) return Promise.resolve(this.token !== null);
    if (this.renewal) return this.renewal;
    const p = this.renewOnce(stale).finally(() => {
      if (this.renewal === p) this.renewal = null;
    });
    this.renewal = p;
    return p;
  }

  private renewOnce(stale: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const abort = new AbortController();
      let settled = false;
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        this.watchers.delete(watch);
        abort.abort();
        resolve(ok);
      };
      // Another tab's token (or sign-out) arrived while we waited for the lock: leave the queue.
      const watch = (): void => {
        if (this.gen > stale || this.closed) finish(this.token !== null);
      };
      this.watchers.add(watch);
      const underLock = async (): Promise<void> => {
        if (!settled) finish(await this.refreshIfStill(stale));
      };
      if (!this.locks) {
        void underLock().catch(() => finish(false));
        return;
      }
      this.locks.request(this.lockName, { signal: abort.signal }, underLock).catch(() => finish(this.gen > stale && this.token !== null));
    });
  }

  /** Runs while holding the lock: only refreshes if no other tab has done it meanwhile. */
  private async refreshIfStill(stale: number): Promise<boolean> {
    if (this.gen > stale) return this.token !== null;
    if (this.channel && this.peerWaitMs > 0) {
      // The other tab's broadcast may still be on its way when the lock changes hands: ask.
      this.post({ t: 'query', gen: stale });
      await this.until(() => this.gen > stale, this.peerWaitMs);
      if (this.gen > stale) return this.token !== null;
    }
    if (this.closed) return false;
    let res: Response;
    try {
      res = await this.doFetch(this.base + '/auth/refresh', {
        method: 'POST',
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      return false; // network: keep the state; the next request tries again
    }
    if (res.ok) {
      const body = (await res.json()) as { accessToken: string; expiresIn: number };
      this.adopt(this.nextGen(), body.accessToken, Date.now() + body.expiresIn * 1000, true);
      return true;
    }
    if (res.status === 401 || res.status === 403) {
      // Invalid, reused, refused: every tab shares the cookie, so every tab is out. A missing
      // cookie changed nothing on the server: the other tabs keep the tokens they hold.
      const code = (await problemOf(res))?.code ?? 'REFRESH_FAILED';
      this.signOut(code, code !== 'REFRESH_TOKEN_MISSING');
    }
    return false;
  }

  private until(done: () => boolean, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const stop = (): void => {
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve();
      };
      const check = (): void => {
        if (done() || this.closed) stop();
      };
      const timer = setTimeout(stop, ms);
      this.watchers.add(check);
    });
  }
}
