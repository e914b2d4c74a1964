import { randomUUID } from 'node:crypto';
import type { Request } from 'express';
import { compile } from 'proxy-addr';

/** A caller's X-Request-Id is kept only if it is a short, plain token: it ends up in log lines. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Kept beside the request rather than as a new property of it. */
const ids = new WeakMap<object, string>();

type Trust = (address: string, hop: number) => boolean;
const never: Trust = () => false;
const always: Trust = () => true;
/** Per value of the host's `trust proxy` setting: compiled once. */
const compiled = new Map<unknown, Trust>();

/**
 * Whether the request's immediate peer is a proxy the host trusts (Express's `trust proxy`, set
 * from TRUST_PROXY in this application): only such a peer may name the request's id.
 */
function fromTrustedProxy(req: Request): boolean {
  const setting: unknown = req.app?.get('trust proxy');
  let trust = compiled.get(setting);
  if (trust === undefined) {
    if (setting === undefined || setting === false || setting === 0) trust = never;
    else if (setting === true) trust = always;
    else if (typeof setting === 'number') trust = (_a, hop) => hop < setting;
    else if (typeof setting === 'string' || Array.isArray(setting)) {
      const list = typeof setting === 'string' ? setting.split(',').map((s) => s.trim()) : (setting as string[]);
      trust = compile(list);
    } else trust = never; // a custom function: not ours to call with partial arguments
    compiled.set(setting, trust);
  }
  const peer = req.socket?.remoteAddress;
  return peer !== undefined && trust(peer, 0);
}

/**
 * The request's id for the audit trail: the X-Request-Id a trusted proxy set (a sane one), else a
 * fresh UUID — a client cannot choose what the trail records. Made on first use and kept for the
 * request's lifetime, so every audit line of one request carries the same id. Lazy, not a
 * middleware: only requests that write an audit line pay for it. Deliberately no
 * AsyncLocalStorage: on Node 20 it turns on promise hooks for the whole process (see
 * docs/performance.md).
 */
export function requestIdOf(req: Request): string {
  let id = ids.get(req);
  if (id === undefined) {
    const given = req.headers['x-request-id'];
    // randomUUID draws from a pooled entropy buffer: no syscall per request.
    id = typeof given === 'string' && REQUEST_ID.test(given) && fromTrustedProxy(req) ? given : randomUUID();
    ids.set(req, id);
  }
  return id;
}
