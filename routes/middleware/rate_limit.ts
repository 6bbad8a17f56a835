/**
 * Per-client rate limits over HTTP: which bucket a request draws from, and
 * the `RateLimit-*` headers and 429 problem that tell the client about it.
 *
 * The bucket is the API key when the request carries a valid one (so a key
 * keeps its budget from any address), otherwise the client address (an IPv6
 * address by its /64). Requests with a wrong key count against their address:
 * cycling through made-up keys buys nothing.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Principal } from "../../services/security/api_keys.ts";
import {
  clientBucketKey,
  isIpAddress,
  type RateDecision,
  type RateLimiter,
} from "../../services/security/rate_limit.ts";
import { problemResponse } from "./problem.ts";
import type { AppEnv } from "./request_id.ts";

/** Options for {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Believe the last `X-Forwarded-For` entry (`REPORTD_TRUST_PROXY`). */
  trustProxy: boolean;
}

// Probes are never limited: a throttled readiness probe would take a healthy
// instance out of the load balancer, and both are cheap.
const EXEMPT_PATHS = new Set(["/healthz", "/readyz"]);
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Takes a token per request; answers 429 with `Retry-After` when the bucket
 * is empty. Every limited response carries `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset`.
 */
export function rateLimit(
  limiter: RateLimiter,
  options: RateLimitOptions,
): MiddlewareHandler<AppEnv> {
  return async function rateLimitMiddleware(c, next) {
    if (EXEMPT_PATHS.has(c.req.path)) return await next();
    const kind = READ_METHODS.has(c.req.method) ? "read" : "write";
    const client = rateLimitClient(c.get("auth")?.principal, clientAddress(c, options));
    const decision = limiter.take(kind, client);
    if (decision === undefined) return await next();
    const headers = rateLimitHeaders(decision);
    if (!decision.allowed) {
      return problemResponse(c, "too-many-requests", {
        detail: `Too many ${kind}s from this client; retry in ${decision.retryAfterSeconds} s`,
        headers: { ...headers, "retry-after": String(decision.retryAfterSeconds) },
      });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}

/**
 * Whose budget a request spends: its API key's when it sent a valid one,
 * else its address's (IPv6 by /64: {@linkcode clientBucketKey}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimitClient } from "./rate_limit.ts";
 * assert.equal(rateLimitClient(undefined, "203.0.113.7"), "ip:203.0.113.7");
 * assert.equal(
 *   rateLimitClient({ id: "k1", name: "ci", scopes: ["read"] }, "203.0.113.7"),
 *   "key:k1",
 * );
 * ```
 */
export function rateLimitClient(principal: Principal | undefined, address: string): string {
  return principal !== undefined ? `key:${principal.id}` : `ip:${clientBucketKey(address)}`;
}

/**
 * The client's address: the socket peer, or with `trustProxy` the last
 * `X-Forwarded-For` entry, the one the proxy in front added (earlier entries
 * are whatever the client claimed). `unknown` when neither is known (an
 * in-process request in tests).
 */
export function clientAddress(c: Context, options: RateLimitOptions): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return clientAddressOf(c.req.raw.headers, env?.remoteAddr?.hostname, options);
}

/**
 * {@linkcode clientAddress} from a request's headers and its socket peer's
 * address, for callers without a Hono context (routes/fast_lane.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientAddressOf } from "./rate_limit.ts";
 * const headers = new Headers({ "x-forwarded-for": "198.51.100.1, 203.0.113.9" });
 * assert.equal(clientAddressOf(headers, "10.0.0.2", { trustProxy: true }), "203.0.113.9");
 * assert.equal(clientAddressOf(headers, "10.0.0.2", { trustProxy: false }), "10.0.0.2");
 * ```
 */
export function clientAddressOf(
  headers: Headers,
  socket: string | undefined,
  options: RateLimitOptions,
): string {
  const peer = socket ?? "unknown";
  if (!options.trustProxy) return peer;
  const forwarded = headers.get("x-forwarded-for");
  if (forwarded === null || forwarded.length > 2048) return peer;
  const last = forwarded.split(",").at(-1)?.trim() ?? "";
  return isIpAddress(last) ? last : peer;
}

/** The `RateLimit-*` headers (IETF draft) of a decision. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
}
