import { randomBytes } from 'node:crypto';
import type { AuthSettings } from '../common/auth-settings';
import type { AuthAudit } from '../observability/auth-audit.service';
import type { SessionLifecycleService } from '../sessions/session-lifecycle.service';
import type { NewSession } from '../sessions/session-store.port';
import type { RevocationView } from '../revocation/revocation-view.service';
import { MemorySessionStore } from '../sessions/session-store.memory-adapter';
import { RefreshTokenCodec } from '../tokens/refresh-token.codec';
import { MacSecret } from '../tokens/mac-secret.loader';
import { BROWSER_SESSION_TAG, BrowserSessionService } from './browser-session.service';
import type { RequestOrigin } from './request-origin.model';

const SELF = 'http://127.0.0.1:3000';

function setup(publicOrigins: string[] = []) {
  let now = 1_800_000_000_000;
  const secret = MacSecret.fromBytes(randomBytes(32));
  const store = new MemorySessionStore(() => now);
  const audit = { record: jest.fn() };
  const auth = {
    verifyCredentials: jest.fn(async () => ({ id: 'user-1', email: 'a@example.com' })),
    logout: jest.fn(async () => undefined),
    // The real recording path, on the spec's memory store.
    startSession: jest.fn(async (session: NewSession) => {
      await store.create(session);
    }),
  };
  const options = {
    cookie: { secure: true, sameSite: 'Lax', httpOnly: true },
    browser: { idleTtl: 1800, absoluteTtl: 43200, touchInterval: 60, publicOrigins },
  } as unknown as AuthSettings;
  const service = new BrowserSessionService(
    store,
    new RefreshTokenCodec(secret, BROWSER_SESSION_TAG),
    secret,
    options,
    { now: () => now },
    auth as unknown as SessionLifecycleService,
    { check: () => 'ok' } as unknown as RevocationView,
    audit as unknown as AuthAudit,
  );
  return { service, store, audit, auth, secret, advance: (ms: number) => (now += ms), now: () => now };
}

const fromPage = (extra: Partial<RequestOrigin> = {}): RequestOrigin => ({
  method: 'POST',
  origin: SELF,
  secFetchSite: 'same-origin',
  selfOrigin: SELF,
  ...extra,
});

describe('BrowserSessionService', () => {
  it('login creates a browser session storing only the secret hash; the cookie authenticates GETs', async () => {
    const { service, store, now } = setup();
    const { cookieValue, state } = await service.login('a@example.com', 'pw', { userAgent: 'x' }, fromPage());
    const [, sid, secret] = cookieValue.split('.');
    const found = await store.lookup('user-1', sid, now());
    expect(found?.session.kind).toBe('browser');
    expect(found?.secretHash.equals(Buffer.from(secret, 'base64url'))).toBe(false);
    const p = await service.authenticate(cookieValue, { method: 'GET', selfOrigin: SELF });
    expect(p).toMatchObject({ sub: 'user-1', sid, via: 'session' });
    expect(state.csrfToken).toBe(service.csrfToken('user-1', sid));
  });

  it('the CSRF token is bound to the session (another sid, another user, another server key give another token)', () => {
    const a = setup();
    const b = setup();
    expect(a.service.csrfToken('u', 'sid-1')).not.toBe(a.service.csrfToken('u', 'sid-2'));
    expect(a.service.csrfToken('u', 'sid-1')).not.toBe(a.service.csrfToken('v', 'sid-1'));
    expect(a.service.csrfToken('u', 'sid-1')).not.toBe(b.service.csrfToken('u', 'sid-1'));
  });

  it('unsafe methods need our origin and the token; refusals are audited and never read the store', async () => {
    const { service, store, audit } = setup();
    const { cookieValue, state } = await service.login('a@example.com', 'pw', {}, fromPage());
    const lookup = jest.spyOn(store, 'lookup');
    for (const req of [
      fromPage(),
      fromPage({ csrfToken: state.csrfToken.slice(1) }),
      fromPage({ csrfToken: state.csrfToken, origin: 'http://127.0.0.1:4000' }),
      fromPage({ csrfToken: state.csrfToken, origin: undefined, secFetchSite: undefined }),
      fromPage({ csrfToken: state.csrfToken, secFetchSite: 'same-site' }),
      fromPage({ method: 'DELETE', csrfToken: state.csrfToken, origin: 'null' }),
    ]) {
      await expect(service.authenticate(cookieValue, req)).rejects.toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    }
    expect(lookup).not.toHaveBeenCalled();
    expect(audit.record).toHaveBeenCalledWith('csrf.failure', expect.objectContaining({ userId: 'user-1' }), expect.any(Object));
    await expect(service.authenticate(cookieValue, fromPage({ csrfToken: state.csrfToken }))).resolves.toMatchObject({ via: 'session' });
    await expect(service.authenticate(cookieValue, fromPage({ csrfToken: state.csrfToken, origin: undefined }))).resolves.toBeDefined();
  });

  it('with AUTH_PUBLIC_ORIGIN set, only those origins count (not the Host-derived one)', async () => {
    const { service } = setup(['https://app.example.com']);
    const page = { origin: 'https://app.example.com', selfOrigin: 'http://internal:3000' };
    const { cookieValue, state } = await service.login('a@example.com', 'pw', {}, fromPage(page));
    await expect(service.authenticate(cookieValue, fromPage({ ...page, csrfToken: state.csrfToken }))).resolves.toBeDefined();
    await expect(service.login('a@example.com', 'pw', {}, fromPage())).rejects.toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
  });

  it('lastUsed is touched at most once per interval; idle and absolute timeouts are enforced', async () => {
    const { service, store, advance } = setup();
    const { cookieValue } = await service.login('a@example.com', 'pw', {}, fromPage());
    const touch = jest.spyOn(store, 'touch');
    const get = { method: 'GET', selfOrigin: SELF };
    advance(30_000);
    await service.authenticate(cookieValue, get);
    expect(touch).not.toHaveBeenCalled();
    advance(31_000);
    await service.authenticate(cookieValue, get);
    await service.authenticate(cookieValue, get);
    expect(touch).toHaveBeenCalledTimes(1);
    advance(1800_000);
    await expect(service.authenticate(cookieValue, get)).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
  });
});
