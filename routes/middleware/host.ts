/**
 * The `Host` header: is it a valid authority, and the path of the request
 * target recovered even when it is not (`validHost()` in hygiene.ts refuses it).
 *
 * Why this exists: `Deno.serve` builds a request's URL by gluing the `Host`
 * header in front of the request target (`"http://" + host + target`), and
 * routing, authorization and the access line all read the path from that
 * URL. `GET /healthz` with `Host: x/metrics?` therefore arrived as
 * `http://x/metrics?/healthz`: routed to `/metrics` and logged as `/metrics`,
 * which bypasses any proxy rule written on paths (the one docs/security.md
 * suggests for `/metrics`). A `Host` that is a valid authority (RFC 3986
 * section 3.2: host and optional port, no `/`, `?`, `#`, `@` or spaces) cannot
 * change the path, so checking it makes the target the only source of the
 * routed path.
 *
 * @module
 */
import type { Context } from "hono";

// RFC 3986 authority without userinfo: an IP literal in brackets, or a
// reg-name / IPv4 address (unreserved, percent-encoded and sub-delims
// characters), then an optional port of digits.
const AUTHORITY =
  /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::[0-9]{0,5})?$/;

/**
 * True when `host` (a `Host` header value) is a valid authority, or absent:
 * HTTP/1.0 requests may leave it out, and then the URL uses the listener's
 * address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isValidHost } from "./host.ts";
 * assert.ok(isValidHost("reports.example.com:8443"));
 * assert.ok(isValidHost("[::1]:8000"));
 * assert.ok(!isValidHost("x/metrics?"));
 * assert.ok(!isValidHost("user@example.com"));
 * ```
 */
export function isValidHost(host: string | null | undefined): boolean {
  return host === null || host === undefined || host === "" || AUTHORITY.test(host);
}

/**
 * The path of the request target as the client sent it, whatever the `Host`
 * header says: the URL with its `scheme://host` prefix cut off, up to the
 * query. For a valid `Host` this is `c.req.path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetPath } from "./host.ts";
 * const request = new Request("http://x/metrics?/healthz", { headers: { host: "x/metrics?" } });
 * assert.equal(targetPath(request), "/healthz");
 * ```
 */
export function targetPath(request: Request): string {
  const url = request.url;
  const host = request.headers.get("host");
  let rest = url;
  for (const scheme of ["http://", "https://"]) {
    if (host && url.startsWith(`${scheme}${host}`)) {
      rest = url.slice(scheme.length + host.length);
      break;
    }
  }
  if (rest === url) {
    // Absolute-form target or no Host: the URL is the target itself.
    const start = url.indexOf("/", url.indexOf("//") + 2);
    rest = start === -1 ? "/" : url.slice(start);
  }
  const query = rest.indexOf("?");
  return query === -1 ? rest : rest.slice(0, query);
}

/** The request's path for logs and problem documents: {@linkcode targetPath} unless `Host` is valid. */
export function requestPath(c: Context): string {
  return isValidHost(c.req.header("host")) ? c.req.path : targetPath(c.req.raw);
}
