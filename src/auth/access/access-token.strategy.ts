import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { AuthError } from '../errors/auth-error.model';
import { CLOCK_TOLERANCE_SECONDS, type AccessClaims } from '../tokens/access-token.service';
import type { SigningKeySet } from '../tokens/signing-keys.loader';
import { SIGNING_KEYS } from '../tokens/tokens.constants';
import type { AuthPrincipal } from './auth-principal.model';
import { setPrincipal } from './current-user.decorator';
import { RequestAuthenticator } from './request-authenticator.service';

const bearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * passport's `jwt` strategy, for hosts that protect routes with `@UseGuards(AuthGuard('jwt'))`
 * from @nestjs/passport. Backed by auth's own verifier and revocation view, so it accepts and
 * refuses exactly what AuthenticationGuard does, with the same codes: the token is verified by
 * RequestAuthenticator before passport-jwt sees it (passport-jwt's own check then runs against
 * the same key set and cannot disagree), and validate() refuses a revoked session. `req.user` is
 * the principal @CurrentUser() returns.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, 'jwt') {
  /** What RequestAuthenticator verified, per request, for validate(). */
  private readonly verified: WeakMap<object, AccessClaims>;

  constructor(
    private readonly authenticator: RequestAuthenticator,
    @Inject(SIGNING_KEYS) keys: SigningKeySet,
    @Inject(AUTH_SETTINGS) settings: AuthSettings,
  ) {
    const verified = new WeakMap<object, AccessClaims>();
    const pems = new Map([...keys.verifiers].map(([kid, k]) => [kid, k.key.export({ format: 'pem', type: 'spki' }).toString()]));
    super({
      jwtFromRequest: (req: Request): string => {
        const token = RequestAuthenticator.bearerFrom(req.headers.authorization);
        if (token === null) throw new AuthError('ACCESS_TOKEN_MISSING');
        if (token === 'malformed' || bearer(req) === null) throw new AuthError('ACCESS_TOKEN_INVALID');
        verified.set(req, authenticator.verify(token));
        return token;
      },
      // The token was verified above, so its header parses and its kid is one of ours.
      secretOrKeyProvider: (_req: Request, rawJwt: string, done: (err: unknown, key?: string) => void) => {
        const { kid } = JSON.parse(Buffer.from(rawJwt.split('.')[0], 'base64url').toString('utf8')) as { kid: string };
        done(null, pems.get(kid));
      },
      algorithms: [...new Set([...keys.verifiers.values()].map((k) => k.alg))],
      issuer: settings.issuer,
      audience: settings.audience,
      jsonWebTokenOptions: { clockTolerance: CLOCK_TOLERANCE_SECONDS },
      passReqToCallback: true,
    });
    this.verified = verified;
  }

  async validate(req: Request): Promise<AuthPrincipal> {
    const claims = this.verified.get(req);
    if (!claims) throw new AuthError('ACCESS_TOKEN_INVALID');
    const principal = await this.authenticator.principalFor(claims);
    setPrincipal(req, principal);
    return principal;
  }
}
