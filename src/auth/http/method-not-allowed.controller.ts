import { All, Controller, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Public } from '../access/public.decorator';
import { AuthError } from '../errors/auth-error.model';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ApiExcludeController } from '@nestjs/swagger';

/**
 * Auth's paths and the methods each answers (HEAD comes with GET). Kept beside the controllers'
 * own decorators; the e2e suite sends every method to every path here and fails on a mismatch.
 */
export const AUTH_ROUTES: Readonly<Record<string, readonly string[]>> = {
  'auth/register': ['POST'],
  'auth/login': ['POST'],
  'auth/refresh': ['POST'],
  'auth/logout': ['POST'],
  'auth/logout-all': ['POST'],
  'auth/password': ['POST'],
  'auth/password/forgot': ['POST'],
  'auth/password/reset': ['POST'],
  'auth/email/verify': ['POST'],
  'auth/email/verify/resend': ['POST'],
  'auth/me': ['GET'],
  'auth/introspect': ['POST'],
  'auth/sessions': ['GET'],
  'auth/sessions/:id': ['DELETE'],
  'auth/browser/login': ['POST'],
  'auth/browser/session': ['GET'],
  '.well-known/jwks.json': ['GET'],
  signin: ['GET'],
  'signin/app.js': ['GET'],
  'signin/app.css': ['GET'],
  'signin/auth-client.js': ['GET'],
  metrics: ['GET'],
};

const allowOf = (path: string): string => {
  const methods = AUTH_ROUTES[path];
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
};

/**
 * A known auth path called with another method: 405 METHOD_NOT_ALLOWED with `Allow` (RFC 9110
 * §15.5.6), instead of the host's 404. Registered after auth's other controllers, so it only sees
 * what they did not match; the host's own paths are not touched.
 */
// Not an operation: the 405 of every other method on auth's paths (the document's description says so).
@ApiExcludeController()
@Public()
@UseFilters(ProblemDetailsFilter)
@Controller()
export class MethodNotAllowedController {
  @All(Object.keys(AUTH_ROUTES))
  refuse(@Req() req: Request, @Res({ passthrough: true }) res: Response): void {
    // By suffix: a host's global prefix (setGlobalPrefix) comes before auth's paths.
    const routePath = (req.route as { path?: string } | undefined)?.path ?? '';
    const path = Object.keys(AUTH_ROUTES).find((p) => routePath.endsWith(`/${p}`)) ?? '';
    const allow = path ? allowOf(path) : 'OPTIONS';
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204);
      return;
    }
    throw new AuthError('METHOD_NOT_ALLOWED');
  }
}
