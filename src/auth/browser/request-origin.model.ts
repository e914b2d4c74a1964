/**
 * What the browser profile needs to know about a request, as plain data (services never see
 * HTTP types). The guard and the browser controller build it from the request.
 */
export interface RequestOrigin {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The `Origin` header, if any (`null` is kept as the string "null"). */
  readonly origin?: string;
  /** The `Sec-Fetch-Site` header, if any. */
  readonly secFetchSite?: string;
  /** scheme://host[:port] of the request itself (Host header; protocol per TRUST_PROXY). */
  readonly selfOrigin: string;
  /** The CSRF token header, if any. */
  readonly csrfToken?: string;
  /** The request's id (audited routes only), for the audit trail. */
  readonly requestId?: string;
}

/** Methods that may change state: a cookie-authenticated one needs a CSRF token. */
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
