import { Controller, HttpCode, Post, Req, UseFilters } from '@nestjs/common';
import { urlencoded } from 'body-parser';
import type { Request, Response } from 'express';
import { Public } from '../access/public.decorator';
import { AuthError } from '../errors/auth-error.model';
import { IntrospectionService, type IntrospectionResult } from '../introspection/introspection.service';
import { clientOf } from './client-context';
import { NoStore } from './no-store.decorator';
import { ProblemDetailsFilter, toAuthError } from './problem-details.filter';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { IntrospectionActiveModel, IntrospectionInactiveModel, IntrospectionRequestModel } from '../openapi/auth-openapi.models';
import { ApiProblems } from '../openapi/auth-openapi.problems';
import { SECURITY } from '../openapi/auth-openapi.security';

const FORM_TYPE = /^application\/x-www-form-urlencoded\s*(;|$)/i;
const readForm = urlencoded({ extended: false, limit: 8 * 1024, inflate: false, parameterLimit: 10, type: () => true });

/** The form body RFC 7662 prescribes, read here unless the host's parser already did. */
function formBody(req: Request): Promise<Record<string, unknown>> {
  if (!FORM_TYPE.test(req.headers['content-type'] ?? '')) return Promise.reject(new AuthError('UNSUPPORTED_MEDIA_TYPE'));
  if (req.readableEnded) return Promise.resolve((req.body ?? {}) as Record<string, unknown>);
  return new Promise((resolve, reject) =>
    readForm(req, {} as Response, (err?: unknown) => (err ? reject(toAuthError(err)) : resolve((req.body ?? {}) as Record<string, unknown>))),
  );
}

/** `Authorization: Basic base64(urlencoded name ":" urlencoded secret)` (RFC 6749 §2.3.1), else undefined parts. */
function basicCredentials(header: string | undefined): { name?: string; secret?: string } {
  if (header === undefined || !/^basic /i.test(header) || header.length > 1024) return {};
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return {};
  try {
    return { name: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
  } catch {
    return {};
  }
}

/**
 * POST /auth/introspect (RFC 7662) for sibling services: form-encoded `token`, the client
 * authenticated with HTTP Basic (AUTH_INTROSPECTION_CLIENTS). Cookies do not authenticate it, so
 * CSRF does not apply.
 */
@ApiTags('introspection')
@NoStore()
@Public()
@UseFilters(ProblemDetailsFilter)
@Controller('auth')
export class IntrospectionController {
  constructor(private readonly introspection: IntrospectionService) {}

  @ApiOperation({
    summary: 'Token introspection for sibling services (RFC 7662)',
    description: 'Is this access token ours, unexpired, and of a live session? Anything else is `{active: false}`.',
  })
  @ApiSecurity(SECURITY.introspectionClient)
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ type: IntrospectionRequestModel })
  @ApiExtraModels(IntrospectionActiveModel, IntrospectionInactiveModel)
  @ApiOkResponse({ description: 'Active, with its claims; or inactive.', schema: { oneOf: [{ $ref: getSchemaPath(IntrospectionActiveModel) }, { $ref: getSchemaPath(IntrospectionInactiveModel) }] } })
  @ApiProblems('POST auth/introspect')
  @Post('introspect')
  @HttpCode(200)
  async introspect(@Req() req: Request): Promise<IntrospectionResult> {
    const { name, secret } = basicCredentials(req.headers.authorization);
    const from = clientOf(req);
    const client = await this.introspection.authenticateClient(name, secret, from);
    const body = await formBody(req);
    const token = body.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw new AuthError('VALIDATION_FAILED', { errors: [{ field: 'token', message: 'token must be a string of 1 to 4096 characters' }] });
    }
    return this.introspection.introspect(client, token, from);
  }
}
