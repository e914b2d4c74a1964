import { parse } from 'cookie';
import type { Request } from 'express';

/** Parsed once per request, beside it rather than on it; auth reads only its own cookies. */
const jars = new WeakMap<object, Record<string, string | undefined>>();

/**
 * A cookie of the request, read from its Cookie header by auth itself: the host need not mount
 * cookie-parser, and whatever it mounts (signed cookies, a secret) does not change what auth sees.
 */
export function cookieOf(req: Request, name: string): string | undefined {
  let jar = jars.get(req);
  if (jar === undefined) {
    const header = req.headers.cookie;
    jar = header ? parse(header) : {};
    jars.set(req, jar);
  }
  const value = jar[name];
  return value !== undefined && value.length > 0 ? value : undefined;
}
