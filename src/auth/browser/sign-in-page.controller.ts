import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../access/public.decorator';
import { SIGN_IN_CSS, SIGN_IN_HTML, SIGN_IN_JS } from './sign-in-page.assets';
import { NoStore } from '../http/no-store.decorator';

/** GET /signin: the minimal page of the browser profile (static; all state comes from same-origin fetches). */
@NoStore()
@Public()
@Controller('signin')
export class SignInPageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return SIGN_IN_HTML;
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return SIGN_IN_JS;
  }

  @Get('app.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  style(): string {
    return SIGN_IN_CSS;
  }
}
