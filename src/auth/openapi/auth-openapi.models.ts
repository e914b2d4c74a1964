import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { BrowserSessionState } from '../browser/browser-session.service';
import { AUTH_ERROR_CODES } from '../errors/auth-error.model';
import type { TokenResponse } from '../http/auth.controller';
import type { SessionSummary } from '../sessions/session-lifecycle.service';

/**
 * The response bodies as OpenAPI schemas. Documentation only: the controllers return plain
 * objects; each class `implements` the type the controller returns, so a field added there and
 * not here fails the typecheck, and the e2e suite validates real bodies against these schemas.
 */

@ApiSchema({ name: 'TokenResponse' })
export class TokenResponseModel implements TokenResponse {
  @ApiProperty({ description: 'Signed access token (JWT); send as `Authorization: Bearer …`.' }) accessToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ type: 'integer', description: 'Seconds until the access token expires.' }) expiresIn!: number;
  @ApiPropertyOptional({ description: 'Only with `refreshTokenDelivery: "body"` (or a refresh sent in the body); otherwise it is in the refresh cookie.' })
  refreshToken?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'Seconds until the refresh token expires unused; with `refreshToken`.' })
  refreshExpiresIn?: number;
}

@ApiSchema({ name: 'RegisteredUser' })
export class RegisteredUserModel {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The address as typed.' }) email!: string;
}

@ApiSchema({ name: 'Principal' })
export class PrincipalModel {
  @ApiProperty({ description: 'The user id.' }) sub!: string;
  @ApiProperty({ description: 'The session id.' }) sid!: string;
}

@ApiSchema({ name: 'SessionSummary' })
export class SessionSummaryModel implements SessionSummary {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['api', 'browser'] }) kind!: 'api' | 'browser';
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) lastUsedAt!: string;
  @ApiProperty({ description: 'Browser and platform from the User-Agent at sign-in.' }) deviceLabel!: string;
  @ApiProperty({ description: 'The session of this request.' }) current!: boolean;
}

@ApiSchema({ name: 'SessionList' })
export class SessionListModel {
  @ApiProperty({ type: () => [SessionSummaryModel] }) sessions!: SessionSummaryModel[];
}

@ApiSchema({ name: 'BrowserSession' })
export class BrowserSessionModel implements BrowserSessionState {
  @ApiProperty() sub!: string;
  @ApiProperty() sid!: string;
  @ApiProperty({ description: 'Send it as `X-CSRF-Token` on every POST, PUT, PATCH and DELETE made with the session cookie.' }) csrfToken!: string;
  @ApiProperty({ format: 'date-time' }) idleExpiresAt!: string;
  @ApiProperty({ format: 'date-time' }) absoluteExpiresAt!: string;
}

@ApiSchema({ name: 'Accepted' })
export class AcceptedModel {
  @ApiProperty({ enum: ['accepted'] }) status!: 'accepted';
}

@ApiSchema({ name: 'Jwk', description: 'A public signing key (RFC 7517): EC (crv, x, y) or RSA (n, e).' })
export class JwkModel {
  @ApiProperty({ enum: ['EC', 'RSA'] }) kty!: string;
  @ApiProperty() kid!: string;
  @ApiProperty({ enum: ['ES256', 'RS256', 'PS256'] }) alg!: string;
  @ApiProperty({ enum: ['sig'] }) use!: string;
  @ApiPropertyOptional() crv?: string;
  @ApiPropertyOptional() x?: string;
  @ApiPropertyOptional() y?: string;
  @ApiPropertyOptional() n?: string;
  @ApiPropertyOptional() e?: string;
}

@ApiSchema({ name: 'JwkSet' })
export class JwkSetModel {
  @ApiProperty({ type: () => [JwkModel] }) keys!: JwkModel[];
}

@ApiSchema({ name: 'IntrospectionActive' })
export class IntrospectionActiveModel {
  @ApiProperty({ enum: [true] }) active!: true;
  @ApiProperty() sub!: string;
  @ApiProperty() sid!: string;
  @ApiProperty({ type: 'integer' }) exp!: number;
  @ApiProperty({ type: 'integer' }) iat!: number;
  @ApiProperty() iss!: string;
  @ApiProperty() aud!: string;
  @ApiProperty() client_id!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
}

@ApiSchema({ name: 'IntrospectionInactive' })
export class IntrospectionInactiveModel {
  @ApiProperty({ enum: [false] }) active!: false;
}

/** Form body of RFC 7662 §2.1. */
@ApiSchema({ name: 'IntrospectionRequest' })
export class IntrospectionRequestModel {
  @ApiProperty({ minLength: 1, maxLength: 4096, description: 'The access token asked about.' }) token!: string;
  @ApiPropertyOptional({ description: 'Accepted and ignored (RFC 7662).' }) token_type_hint?: string;
}

@ApiSchema({ name: 'FieldError' })
export class FieldErrorModel {
  @ApiProperty() field!: string;
  @ApiProperty() message!: string;
}

/** What ProblemDetailsFilter writes (RFC 9457). */
@ApiSchema({ name: 'ProblemDetails' })
export class ProblemDetailsModel {
  @ApiProperty({ description: '`urn:auth-domain:problem:` and the code in kebab case.', example: 'urn:auth-domain:problem:invalid-credentials' }) type!: string;
  @ApiProperty({ description: "The code's fixed title." }) title!: string;
  @ApiProperty({ type: 'integer', description: 'The HTTP status, repeated.' }) status!: number;
  @ApiProperty({ enum: Object.keys(AUTH_ERROR_CODES), description: 'Stable machine-readable code (the closed set in the README).' }) code!: string;
  @ApiPropertyOptional({ description: 'Safe detail, e.g. why a password is refused.' }) detail?: string;
  @ApiPropertyOptional({ type: () => [FieldErrorModel], description: 'VALIDATION_FAILED: the fields refused (values are never echoed).' })
  errors?: FieldErrorModel[];
}
