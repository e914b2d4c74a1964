import { Controller, Get, Header, Inject, UseFilters } from '@nestjs/common';
import { Public } from '../access/public.decorator';
import { jwks, JWKS_MAX_AGE_SECONDS, SigningKeySet } from '../tokens/signing-keys.loader';
import { SIGNING_KEYS } from '../tokens/tokens.constants';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JwkSetModel } from '../openapi/auth-openapi.models';
import { ApiProblems } from '../openapi/auth-openapi.problems';

@ApiTags('tokens')
@UseFilters(ProblemDetailsFilter)
@Controller('.well-known')
export class JwksController {
  private readonly body: ReturnType<typeof jwks>;

  constructor(@Inject(SIGNING_KEYS) keys: SigningKeySet) {
    this.body = jwks(keys);
  }

  @ApiOperation({ summary: 'The public keys that verify access tokens (JWKS, RFC 7517)', description: 'Cacheable (`Cache-Control: public, max-age`).' })
  @ApiOkResponse({ description: 'The key set.', type: JwkSetModel })
  @ApiProblems('GET .well-known/jwks.json')
  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
  keys(): ReturnType<typeof jwks> {
    return this.body;
  }
}
