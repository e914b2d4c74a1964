import type { INestApplication, Type } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { AuthModule } from '../auth.module';
import { AUTH_SETTINGS, type AuthSettings } from '../common/auth-settings';
import { refreshCookieName } from '../http/refresh-cookie.options';
import { CSRF_HEADER, sessionCookieName } from '../browser/session-cookie.options';
import { SECURITY } from './auth-openapi.security';
import { BrowserLoginDto, ChangePasswordDto, EmailDto, LoginDto, RecoveryTokenDto, RefreshDto, RegisterDto, ResetPasswordDto } from '../http/auth.dto';

/** Auth's JSON bodies: the validation pipe refuses a field they do not declare (VALIDATION_FAILED). */
const CLOSED_BODIES: ReadonlyArray<Type<unknown>> = [RegisterDto, LoginDto, RefreshDto, BrowserLoginDto, ChangePasswordDto, EmailDto, RecoveryTokenDto, ResetPasswordDto];

export interface AuthOpenApiOptions {
  /** The host's modules whose routes join auth's in the document (SwaggerModule's `include`). Default none. */
  readonly include?: ReadonlyArray<Type<unknown>>;
  readonly title?: string;
  readonly version?: string;
  readonly description?: string;
}

const DESCRIPTION =
  "Sign-in, tokens, sessions, browser sessions, account recovery and introspection. Errors are `application/problem+json` (RFC 9457) with a stable `code`; each operation lists the codes it can answer. A known path called with another method answers 405 `METHOD_NOT_ALLOWED` with `Allow`. Where the host mounts its own JSON parser, a body that parser refuses is answered by the host, in its format.";

/**
 * The OpenAPI 3 document of auth's routes (and of the host's modules named in `include`), built by
 * @nestjs/swagger from the controllers' decorators. Cookie names follow the app's settings
 * (`__Secure-`/`__Host-` prefixes only with secure cookies). Serving it is the host's choice.
 */
export function buildAuthOpenApiDocument(app: INestApplication, options: AuthOpenApiOptions = {}): OpenAPIObject {
  const settings = app.get<AuthSettings>(AUTH_SETTINGS, { strict: false });
  const config = new DocumentBuilder()
    .setTitle(options.title ?? 'auth-domain')
    .setDescription(options.description ?? DESCRIPTION)
    .setVersion(options.version ?? '1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from /auth/login or /auth/refresh.' }, SECURITY.bearer)
    .addCookieAuth(refreshCookieName(settings), { type: 'apiKey', in: 'cookie', description: 'The refresh token (HttpOnly, Path /auth), set by /auth/login and /auth/refresh.' }, SECURITY.refreshCookie)
    .addCookieAuth(sessionCookieName(settings), { type: 'apiKey', in: 'cookie', description: 'The browser session (HttpOnly, Path /), set by /auth/browser/login.' }, SECURITY.sessionCookie)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: `With the session cookie on POST, PUT, PATCH and DELETE: the \`csrfToken\` of /auth/browser/session (header \`${CSRF_HEADER}\`).` }, SECURITY.csrfHeader)
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'An introspection client (AUTH_INTROSPECTION_CLIENTS).' }, SECURITY.introspectionClient)
    .build();
  const document = SwaggerModule.createDocument(app, config, { include: [AuthModule, ...(options.include ?? [])] });
  for (const dto of CLOSED_BODIES) {
    const schema = document.components?.schemas?.[dto.name];
    if (schema && !('$ref' in schema)) schema.additionalProperties = false;
  }
  return document;
}
