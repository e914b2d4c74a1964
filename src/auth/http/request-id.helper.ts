import { randomUUID } from 'node:crypto';
import type { Request } from 'express';

/** A caller's X-Request-Id is kept only if it is a short, plain token: it ends up in log lines. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Kept beside the request rather than as a new property of it (a megamorphic store on every audited request). */
const ids = new WeakMap<object, string>();

/**
 * The request's id for the audit trail: the caller's sane X-Request-Id, else a fresh UUID, made on
 * first use and kept for the request's lifetime, so every audit line of one request carries the
 * same id. Lazy, not a middleware: only requests that write an audit line pay for it, and no route
 * pays for a router layer. Deliberately no AsyncLocalStorage: on Node 20 it turns on promise hooks
 * for the whole process, so every promise of every request pays; nor a per-request child logger
 * (pino-http). Their cost: docs/performance.md.
 */
export function requestIdOf(req: Request): string {
  let id = ids.get(req);
  if (id === undefined) {
    const given = req.headers['x-request-id'];
    // randomUUID draws from a pooled entropy buffer: no syscall per request.
    id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    ids.set(req, id);
  }
  return id;
}
