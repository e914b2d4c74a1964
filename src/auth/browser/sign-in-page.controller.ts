import { Controller, Get, Header, UseFilters } from '@nestjs/common';
import { Public } from '../access/public.decorator';
import { NoStore } from '../http/no-store.decorator';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { SIGN_IN_CSS, SIGN_IN_HTML, SIGN_IN_JS } from './sign-in-page.assets';
import { AUTH_CLIENT_JS } from './auth-client.bundle';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../openapi/auth-openapi.problems';

/**
 * The page's own headers, whatever the host sets (or not): no inline script or style, no framing
 * (clickjacking on a credential form), no sniffing, no referrer.
 */
const PAGE_HEADERS: ReadonlyArray<[string, string]> = [
  ['Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"],
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
];
const pageHeaders = (): MethodDecorator => (target, key, descriptor) => {
  for (const [name, value] of PAGE_HEADERS) Header(name, value)(target, key, descriptor);
};

/** GET /signin: the minimal page of the browser profile (static; all state comes from same-origin fetches). */
@ApiTags('browser')
@NoStore()
@Public()
@UseFilters(ProblemDetailsFilter)
@Controller('signin')
export class SignInPageController {
  /** The page; /signin/reset and /signin/verify are the views mailed links open (?token=…). */
  @ApiOperation({ summary: 'The sign-in page (also /signin/reset and /signin/verify, which mailed links open)' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiProblems('GET signin')
  @Get(['', 'reset', 'verify'])
  @pageHeaders()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return SIGN_IN_HTML;
  }

  @ApiOperation({ summary: "The page's script" })
  @ApiProduces('text/javascript')
  @ApiOkResponse({ description: 'The script.', content: { 'text/javascript': { schema: { type: 'string' } } } })
  @ApiProblems('GET signin/app.js')
  @Get('app.js')
  @pageHeaders()
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return SIGN_IN_JS;
  }

  /** The browser client (client/, compiled by `npm run build:client`): the page's script imports it; an SPA on this origin may too. */
  @ApiOperation({ summary: 'The browser client (client/), an ES module the page imports' })
  @ApiProduces('text/javascript')
  @ApiOkResponse({ description: 'The script.', content: { 'text/javascript': { schema: { type: 'string' } } } })
  @ApiProblems('GET signin/auth-client.js')
  @Get('auth-client.js')
  @pageHeaders()
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  client(): string {
    return AUTH_CLIENT_JS;
  }

  @ApiOperation({ summary: "The page's style sheet" })
  @ApiProduces('text/css')
  @ApiOkResponse({ description: 'The style sheet.', content: { 'text/css': { schema: { type: 'string' } } } })
  @ApiProblems('GET signin/app.css')
  @Get('app.css')
  @pageHeaders()
  @Header('Content-Type', 'text/css; charset=utf-8')
  style(): string {
    return SIGN_IN_CSS;
  }
}
