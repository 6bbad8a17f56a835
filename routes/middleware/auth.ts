/**
 * Access control in two steps: `authenticate` finds out who is calling,
 * `authorize` decides whether that caller may do this request.
 *
 * They are separate because the rate limiter sits between them: it budgets
 * per API key when there is a valid one and per client address otherwise, so
 * it must know the caller, and it must run before a request is refused for a
 * missing scope, or a flood of bad keys would cost nothing.
 *
 * What needs which scope is decided by the path alone, in
 * {@linkcode requiredScope}: everything under `/v1/` is the API (reads need
 * `read`, anything else `write`); `/metrics` needs `admin`; everything else
 * (health and readiness probes, the page and its static files, `/docs`,
 * `/openapi.json`, problem descriptions) is public, so probes and the page
 * keep working without a key. Deleting someone else's report is refused
 * deeper, in services/reports/mod.ts, because only the database knows the owner.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import {
  type ApiKeys,
  hasScope,
  type Principal,
  type Scope,
} from "../../services/security/api_keys.ts";
import { getLogger } from "../../services/telemetry/logger.ts";
import { problemResponse } from "./problem.ts";
import type { AppEnv } from "./request_id.ts";

/** What `authenticate` learned about a request. */
export interface AuthState {
  /** False in open mode: no key is configured, so nothing is refused. */
  required: boolean;
  /** The caller, when it sent a valid key. */
  principal?: Principal;
  /** True when an Authorization header was sent (valid or not). */
  presented: boolean;
}

/** Which requests are public although keys are configured. */
export interface AccessPolicy {
  /** Reading reports needs no key (`REPORTD_PUBLIC_READ`). */
  publicRead?: boolean;
  /** `/metrics` needs no key (`REPORTD_PUBLIC_METRICS`). */
  publicMetrics?: boolean;
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

// A bearer token is at most a few hundred characters; anything longer is not
// one of ours and is refused without hashing it.
const MAX_AUTHORIZATION_LENGTH = 512;
const BEARER = /^Bearer +([A-Za-z0-9._~+\/=-]+) *$/i;
const REALM = 'Bearer realm="reportd"';

const log = getLogger(["reportd", "http", "auth"]);

/**
 * The scope a request needs, or undefined when it is public.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requiredScope } from "./auth.ts";
 * assert.equal(requiredScope("GET", "/v1/reports", {}), "read");
 * assert.equal(requiredScope("DELETE", "/v1/reports/x", {}), "write");
 * assert.equal(requiredScope("GET", "/metrics", {}), "admin");
 * assert.equal(requiredScope("GET", "/healthz", {}), undefined);
 * assert.equal(requiredScope("GET", "/v1/reports", { publicRead: true }), undefined);
 * ```
 */
export function requiredScope(
  method: string,
  path: string,
  policy: AccessPolicy,
): Scope | undefined {
  if (path === "/metrics" || path.startsWith("/metrics/")) {
    return policy.publicMetrics ? undefined : "admin";
  }
  // "/v1" itself and everything below it, so probing unknown API paths tells
  // an anonymous caller nothing either.
  if (path === "/v1" || path.startsWith("/v1/")) {
    if (READ_METHODS.has(method)) return policy.publicRead ? undefined : "read";
    return "write";
  }
  return undefined;
}

/**
 * Reads `Authorization: Bearer <key>` and records the caller in `c.var.auth`.
 * Refuses nothing itself (that is `authorize`'s job, after the rate limiter).
 *
 * Public paths are not authenticated at all: nothing there is refused, and
 * asking the database about keys would make `/healthz` fail whenever the
 * database does, while it must only say whether the process is alive. Their
 * requests are rate-limited by address.
 */
export function authenticate(
  keys: Pick<ApiKeys, "required" | "requiredNow" | "authenticate">,
  policy: AccessPolicy,
): MiddlewareHandler<AppEnv> {
  return async function authenticateMiddleware(c, next) {
    const header = c.req.header("authorization");
    if (requiredScope(c.req.method, c.req.path, policy) === undefined) {
      c.set("auth", { required: false, presented: header !== undefined });
      return await next();
    }
    // Known without a query most of the time (a key exists, or the engine
    // knows none does): one database round trip fewer per request.
    const required = keys.requiredNow() ?? await keys.required();
    let principal: Principal | undefined;
    const token = required ? bearerToken(header) : undefined;
    if (token !== undefined) principal = await keys.authenticate(token);
    c.set("auth", { required, principal, presented: header !== undefined });
    await next();
  };
}

/**
 * The key in an `Authorization: Bearer <key>` header, or undefined when the
 * header is missing, too long to be one of ours, or not a bearer token.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bearerToken } from "./auth.ts";
 * assert.equal(bearerToken("Bearer rk_abc"), "rk_abc");
 * assert.equal(bearerToken("Basic dXNlcjpwdw=="), undefined);
 * assert.equal(bearerToken(undefined), undefined);
 * ```
 */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (typeof header !== "string" || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  return BEARER.exec(header)?.[1];
}

/**
 * Refuses a request whose caller lacks the scope it needs: 401 with
 * `WWW-Authenticate: Bearer` when there is no valid key, 403 when the key
 * lacks the scope (RFC 6750's `invalid_token` and `insufficient_scope`).
 */
export function authorize(policy: AccessPolicy): MiddlewareHandler<AppEnv> {
  return async function authorizeMiddleware(c, next) {
    const auth = c.get("auth");
    const scope = requiredScope(c.req.method, c.req.path, policy);
    if (scope === undefined || auth === undefined || !auth.required) return await next();
    if (auth.principal === undefined) return unauthorized(c, auth.presented);
    if (!hasScope(auth.principal, scope)) return forbidden(c, auth.principal, scope);
    await next();
  };
}

function unauthorized(c: Context<AppEnv>, presented: boolean): Response {
  log.debug("Refused {method} {path}: {reason}", {
    method: c.req.method,
    path: c.req.path,
    reason: presented ? "invalid key" : "no key",
  });
  return problemResponse(c, "unauthorized", {
    detail: presented
      ? "The API key is not valid (unknown, revoked or malformed)"
      : "This needs an API key: send Authorization: Bearer <key>",
    headers: {
      "www-authenticate": presented ? `${REALM}, error="invalid_token"` : REALM,
      // A refusal must not be served from a cache to someone who has a key.
      "cache-control": "no-store",
    },
  });
}

function forbidden(c: Context<AppEnv>, principal: Principal, scope: Scope): Response {
  return problemResponse(c, "forbidden", {
    detail: `This needs the ${scope} scope; the key ${JSON.stringify(principal.name)} has ${
      principal.scopes.join(", ")
    }`,
    headers: {
      "www-authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"`,
      "cache-control": "no-store",
    },
  });
}
