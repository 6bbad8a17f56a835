/**
 * HTTP hygiene: security headers on every response, CORS for an explicit list
 * of origins, a valid `Host`, and length caps on the request line.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { isValidHost } from "./host.ts";
import { problemResponse } from "./problem.ts";
import type { AppEnv } from "./request_id.ts";

/** The longest path reportd answers; its own longest is under 100 characters. */
export const MAX_PATH_LENGTH = 1024;
/** The longest query string; reportd's parameters together stay under 600. */
export const MAX_QUERY_LENGTH = 2048;

// A year, the value HSTS preload lists ask for; subdomains are included
// because a cookie-less API has no reason to leave one on plain HTTP.
const HSTS_VALUE = "max-age=31536000; includeSubDomains";

/** The Content-Security-Policy of every response whose route sets none of its own. */
const DEFAULT_CSP =
  "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The rest of the security headers, with the values `hono/secure-headers`
 * sends by default (minus `Cross-Origin-Embedder-Policy`, which would stop
 * the page from loading its own images from other origins).
 */
const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["cross-origin-opener-policy", "same-origin"],
  ["cross-origin-resource-policy", "same-origin"],
  ["origin-agent-cluster", "?1"],
  ["referrer-policy", "no-referrer"],
  ["x-content-type-options", "nosniff"],
  ["x-dns-prefetch-control", "off"],
  ["x-download-options", "noopen"],
  ["x-frame-options", "SAMEORIGIN"],
  ["x-permitted-cross-domain-policies", "none"],
  ["x-xss-protection", "0"],
];

/**
 * The security headers {@linkcode securityHeaders} sets, as name-value pairs:
 * with the default Content-Security-Policy first when `csp` is true (a
 * response no route gave a policy of its own), and HSTS when `hsts` is on.
 * The fast lane (routes/fast_lane.ts) builds its responses from the same list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { securityHeaderList } from "./hygiene.ts";
 * const names = securityHeaderList({ hsts: true, csp: true }).map(([name]) => name);
 * assert.equal(names[0], "content-security-policy");
 * assert.ok(names.includes("strict-transport-security"));
 * ```
 */
export function securityHeaderList(
  options: { hsts: boolean; csp: boolean },
): readonly (readonly [string, string])[] {
  return [
    ...(options.csp ? [["content-security-policy", DEFAULT_CSP] as const] : []),
    ...SECURITY_HEADERS,
    ...(options.hsts ? [["strict-transport-security", HSTS_VALUE] as const] : []),
  ];
}

/**
 * Security headers on every response, errors included: a `default-src 'self'`
 * Content-Security-Policy (routes that serve a page set their own, which is
 * kept), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
 * frame and cross-origin policies, and `Strict-Transport-Security` only when
 * `hsts` is on: sent over plain HTTP (a private deployment without TLS) it
 * would be ignored at best, and behind a TLS proxy it belongs to whoever owns
 * the domain to decide.
 *
 * The same headers `hono/secure-headers` sent, from a list built once: that
 * middleware assembled them on every request (measured: 6 to 8% of a cached
 * report read's CPU time, issue 15), and only the CSP is ever set by a route,
 * so it is the only one checked before it is set.
 */
export function securityHeaders(options: { hsts: boolean }): MiddlewareHandler<AppEnv> {
  const headers = securityHeaderList({ hsts: options.hsts, csp: false });
  return async function securityHeadersMiddleware(c, next) {
    await next();
    const target = c.res.headers;
    if (!target.has("content-security-policy")) {
      target.set("content-security-policy", DEFAULT_CSP);
    }
    for (const [name, value] of headers) target.set(name, value);
  };
}

/**
 * CORS for exactly these origins (compared byte for byte with `Origin`); no
 * middleware at all when the list is empty, so browsers on other origins are
 * refused by the same-origin policy. No credentials: the API uses bearer keys,
 * not cookies, so there is nothing a browser would send on its own.
 */
export function corsPolicy(origins: readonly string[]): MiddlewareHandler<AppEnv> | undefined {
  if (origins.length === 0) return undefined;
  return cors({
    origin: [...origins],
    allowMethods: ["GET", "HEAD", "POST", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
    exposeHeaders: [
      "Location",
      "Link",
      "ETag",
      "Retry-After",
      "RateLimit-Limit",
      "RateLimit-Remaining",
      "RateLimit-Reset",
      "X-Request-Id",
    ],
    maxAge: 600,
  });
}

/**
 * Refuses an over-long path or query string with 414 before anything parses
 * it: no route needs them, and every layer after this one (routing, logging,
 * validation, the access line) would otherwise carry them.
 */
export function requestLimits(): MiddlewareHandler<AppEnv> {
  return async function requestLimitsMiddleware(c, next) {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const query = url.indexOf("?", start);
    const pathLength = (query === -1 ? url.length : query) - start;
    const queryLength = query === -1 ? 0 : url.length - query - 1;
    if (pathLength > MAX_PATH_LENGTH || queryLength > MAX_QUERY_LENGTH) {
      return problemResponse(c, "uri-too-long", {
        detail: `Paths are limited to ${MAX_PATH_LENGTH} characters and query strings to ` +
          `${MAX_QUERY_LENGTH}`,
      });
    }
    await next();
  };
}

/**
 * Refuses a request whose `Host` is not a valid authority with a 400
 * problem, before anything acts on the path that `Host` produced (see
 * host.ts for how a `Host` could rewrite the routed path).
 */
export function validHost(): MiddlewareHandler<AppEnv> {
  return async function validHostMiddleware(c, next) {
    if (!isValidHost(c.req.header("host"))) {
      return problemResponse(c, "invalid-parameter", {
        detail: "The Host header is not a valid authority (a host name or address and an " +
          "optional port)",
        errors: [{ path: "header.host", message: "Expected host[:port], e.g. example.com:8000" }],
      });
    }
    await next();
  };
}
