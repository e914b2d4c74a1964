import { Controller, Get, Header, Inject, UseFilters } from '@nestjs/common';
import { Public } from '../access/public.decorator';
import { jwks, JWKS_MAX_AGE_SECONDS, SigningKeySet } from '../tokens/signing-keys.loader';
import { SIGNING_KEYS } from '../tokens/tokens.constants';
import { ProblemDetailsFilter } from './problem-details.filter';

@UseFilters(ProblemDetailsFilter)
@Controller('.well-known')
export class JwksController {
  private readonly body: ReturnType<typeof jwks>;

  constructor(@Inject(SIGNING_KEYS) keys: SigningKeySet) {
    this.body = jwks(keys);
  }

  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
  keys(): ReturnType<typeof jwks> {
    return this.body;
  }
}
