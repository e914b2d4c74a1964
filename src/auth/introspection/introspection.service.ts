import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RATE_LIMIT_STORE, type RateLimitStore } from '../abuse/rate-limit-store.port';
import { RequestAuthenticator } from '../access/request-authenticator.service';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { AuthError } from '../errors/auth-error.model';
import { AuthAudit, type AuditSource } from '../observability/auth-audit.service';

/** RFC 7662 §2.2: what an active token's introspection says (no personal data: ids and times). */
export type IntrospectionResult =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly sub: string;
      readonly sid: string;
      readonly exp: number;
      readonly iat: number;
      readonly iss: string;
      readonly aud: string;
      readonly client_id: string;
      readonly token_type: 'Bearer';
    };

const INACTIVE: IntrospectionResult = Object.freeze({ active: false });

/**
 * Token introspection for sibling services (RFC 7662): is this access token one of ours, unexpired
 * and of a session that is not revoked? Answered from the same verifier and local revocation view
 * as the guard (no store round trip while the view is fresh; 503 when it cannot confirm). Anything
 * else — a refresh token, a forged, expired or revoked one — is `{active: false}`.
 */
@Injectable()
export class IntrospectionService {
  /** Clients by name, secrets as SHA-256 digests: compared in constant time, equal length. */
  private readonly clients: ReadonlyMap<string, Buffer>;

  constructor(
    private readonly authenticator: RequestAuthenticator,
    @Inject(RATE_LIMIT_STORE) private readonly limits: RateLimitStore,
    @Inject(AUTH_SETTINGS) private readonly options: AuthSettings,
    private readonly audit: AuthAudit,
  ) {
    this.clients = new Map(options.introspection.clients.map((c) => [c.name, digest(c.secret)]));
  }

  /** The client named by HTTP Basic credentials (already decoded), else CLIENT_UNAUTHORIZED. */
  async authenticateClient(name: string | undefined, secret: string | undefined, from: AuditSource): Promise<string> {
    const expected = name === undefined ? undefined : this.clients.get(name);
    // A digest is compared even for an unknown name, so the timing does not tell names apart.
    const ok = timingSafeEqual(expected ?? digest(''), digest(secret ?? '')) && expected !== undefined && secret !== undefined;
    if (!ok || name === undefined) throw new AuthError('CLIENT_UNAUTHORIZED');
    const windowMs = this.options.rateLimit.windowSeconds * 1000;
    const hit = await this.limits.increment(name, windowMs, this.options.introspection.max, windowMs, 'introspection');
    if (hit.isBlocked) {
      this.audit.record('rate_limited', { route: 'introspect', client: name }, from);
      throw new AuthError('RATE_LIMITED', { retryAfter: Math.max(1, hit.timeToBlockExpire) });
    }
    return name;
  }

  async introspect(client: string, token: string, from: AuditSource): Promise<IntrospectionResult> {
    let result: IntrospectionResult = INACTIVE;
    try {
      const claims = this.authenticator.verify(token);
      const principal = await this.authenticator.principalFor(claims);
      result = {
        active: true,
        sub: principal.sub,
        sid: principal.sid,
        exp: claims.exp,
        iat: claims.iat,
        iss: this.options.issuer,
        aud: this.options.audience,
        client_id: this.options.clientId,
        token_type: 'Bearer',
      };
    } catch (e) {
      // Never fail open: a view that cannot confirm is an outage, not an inactive token.
      if (e instanceof AuthError && e.code === 'STORE_UNAVAILABLE') throw e;
    }
    this.audit.record('token.introspected', { client, active: result.active, sid: result.active ? result.sid : undefined }, from);
    return result;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
