import { applyDecorators, Controller, Get, Header, UseFilters } from '@nestjs/common';
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

type PageRoute = 'GET signin' | 'GET signin/app.js' | 'GET signin/auth-client.js' | 'GET signin/app.css';

/** One static file of the page: its route, type, headers and its OpenAPI description. */
function staticFile(route: PageRoute, paths: string | string[], type: 'text/html' | 'text/javascript' | 'text/css', summary: string): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary }),
    ApiProduces(type),
    ApiOkResponse({ description: 'The file.', content: { [type]: { schema: { type: 'string' } } } }),
    ApiProblems(route),
    Get(paths),
    pageHeaders(),
    Header('Content-Type', `${type}; charset=utf-8`),
  );
}

/** GET /signin: the minimal page of the browser profile (static; all state comes from same-origin fetches). */
@ApiTags('browser')
@NoStore()
@Public()
@UseFilters(ProblemDetailsFilter)
@Controller('signin')
export class SignInPageController {
  /** The page; /signin/reset and /signin/verify are the views mailed links open (?token=…). */
  @staticFile('GET signin', ['', 'reset', 'verify'], 'text/html', 'The sign-in page (also /signin/reset and /signin/verify, which mailed links open)')
  page(): string {
    return SIGN_IN_HTML;
  }

  @staticFile('GET signin/app.js', 'app.js', 'text/javascript', "The page's script")
  script(): string {
    return SIGN_IN_JS;
  }

  /** The browser client (client/, compiled by `npm run build:client`): the page's script imports it; an SPA on this origin may too. */
  @staticFile('GET signin/auth-client.js', 'auth-client.js', 'text/javascript', 'The browser client (client/), an ES module the page imports')
  client(): string {
    return AUTH_CLIENT_JS;
  }

  @staticFile('GET signin/app.css', 'app.css', 'text/css', "The page's style sheet")
  style(): string {
    return SIGN_IN_CSS;
  }
}
