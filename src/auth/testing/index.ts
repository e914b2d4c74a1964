/**
 * The auth context's testing kit: for test code only (a lint rule keeps the rest of src/ from
 * importing it, and the production build leaves it out). It gives a test a real access token for a
 * user id without registration, a password or argon2: a real session is recorded in the
 * application's configured session store and a token is signed with its real key, so the guard,
 * `@CurrentUser()`, `@RequireRecentAuth()` and revocation treat it exactly like a login's.
 */
import type { INestApplication } from '@nestjs/common';
import type { AuthPrincipal } from '../access/auth-principal.model';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { CLOCK, type Clock } from '../common/clock.port';
import { NO_CLAIMS, validateClaims, type UserClaims } from '../credentials/user-claims.validator';
import { deviceLabel } from '../sessions/device-label.parser';
import { REFRESH_CODEC, SessionLifecycleService } from '../sessions/session-lifecycle.service';
import { AccessTokenService, CLOCK_TOLERANCE_SECONDS } from '../tokens/access-token.service';
import type { RefreshTokenCodec } from '../tokens/refresh-token.codec';
import { newSessionId } from '../tokens/session-id.codec';

export interface TestTokenOptions {
  /**
   * When the user last proved their credentials (default: now): set it in the past to test a
   * route under `@RequireRecentAuth()`.
   */
  readonly authTime?: Date;
  /**
   * Extra claims the token carries, as CredentialsPort.claimsFor would give them (e.g.
   * `{ roles: ['admin'], tenant: 'acme' }`), validated the same way.
   */
  readonly claims?: UserClaims;
  /** A token already past its expiry (and the clock tolerance): the guard answers 401 ACCESS_TOKEN_EXPIRED. */
  readonly expired?: boolean;
}

/** Labels the kit's sessions in a user's session list. */
const TEST_DEVICE = 'auth testing kit';

function refuseInProduction(): void {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('the auth testing kit refuses to run with NODE_ENV=production');
  }
}

/**
 * A real access token for `userId`, backed by a new API session in the application's session
 * store (listed in GET /auth/sessions, ended by logout, logout-all or `revokeTestSession`). The
 * user id is taken as given: the credentials port is not asked.
 */
export async function accessTokenFor(app: INestApplication, userId: string, options: TestTokenOptions = {}): Promise<string> {
  refuseInProduction();
  if (typeof userId !== 'string' || userId.length === 0) throw new Error('accessTokenFor: userId must be a non-empty string');
  const claims = validateClaims(options.claims);
  const settings = app.get<AuthSettings>(AUTH_SETTINGS);
  const clock = app.get<Clock>(CLOCK);
  const codec = app.get<RefreshTokenCodec>(REFRESH_CODEC);
  const now = clock.now();
  const sid = newSessionId(now);
  const authTime = Math.floor((options.authTime?.getTime() ?? now) / 1000);
  await app.get(SessionLifecycleService).startSession({
    userId,
    sid,
    kind: 'api',
    createdAt: now,
    authTime,
    absoluteExpiresAt: now + settings.sessionAbsoluteTtl * 1000,
    idleTtlMs: settings.sessionIdleTtl * 1000,
    deviceLabel: deviceLabel(TEST_DEVICE),
    // No device binding: a session recorded without one is never checked.
    bindingHash: '',
    // A secret nobody holds: the session cannot be refreshed, only used through this token.
    secretHash: codec.create(userId, sid).secretHash,
  });
  const issuedAt = options.expired ? now - (settings.accessTokenTtl + CLOCK_TOLERANCE_SECONDS + 1) * 1000 : now;
  return app.get(AccessTokenService).issue({ sub: userId, sid, authTime, claims }, issuedAt).token;
}

/**
 * Ends the session behind an access token (one of the kit's or a login's) the way a logout does:
 * removed from the store and revoked on every instance, so that token answers 401
 * SESSION_REVOKED from now on.
 */
export async function revokeTestSession(app: INestApplication, accessToken: string): Promise<void> {
  refuseInProduction();
  const { sub, sid } = decodePayload(accessToken);
  const principal: AuthPrincipal = { sub, sid, authTime: 0, expiresAt: 0, via: 'bearer', claims: NO_CLAIMS };
  await app.get(SessionLifecycleService).logout({ principal });
}

/** The user id and session id an access token carries (not verified: the test made it). */
export function decodePayload(accessToken: string): { sub: string; sid: string } {
  const payload: unknown = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
  const { sub, sid } = payload as { sub?: unknown; sid?: unknown };
  if (typeof sub !== 'string' || typeof sid !== 'string') throw new Error('not an access token of this application');
  return { sub, sid };
}
