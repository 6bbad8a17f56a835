/**
 * Request ids: one per request, echoed as `X-Request-Id` and quoted in problem
 * documents and log lines, so a client's bug report leads straight to the logs.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { AuthState } from "./auth.ts";

/** Hono environment shared by reportd's routes and middleware. */
export interface AppEnv {
  Variables: {
    /** The id of the current request. */
    requestId: string;
    /** Who is calling, set by the `authenticate` middleware (undefined without it). */
    auth: AuthState | undefined;
  };
}

/** Header carrying the request id, in and out. */
export const REQUEST_ID_HEADER = "x-request-id";

// A caller's id is reused only when it is short and made of characters that
// cannot forge log lines or headers (no spaces, quotes, newlines).
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@\/+=-]{1,128}$/;

/**
 * The id of a request that sent `incoming` as its `X-Request-Id`: that id
 * when it is 1..128 safe characters (so ids from a proxy or another service
 * carry through), otherwise a new UUID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseRequestId } from "./request_id.ts";
 * assert.equal(chooseRequestId("abc-123"), "abc-123");
 * assert.notEqual(chooseRequestId("no spaces please"), "no spaces please");
 * ```
 */
export function chooseRequestId(incoming: string | null | undefined): string {
  return typeof incoming === "string" && SAFE_REQUEST_ID.test(incoming)
    ? incoming
    : crypto.randomUUID();
}

/**
 * Gives every request an id ({@linkcode chooseRequestId}) and echoes it as
 * `X-Request-Id` on whatever response goes out.
 */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const id = chooseRequestId(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId", id);
    await next();
    // Set after the handler so error and not-found responses carry it too.
    c.res.headers.set(REQUEST_ID_HEADER, id);
  };
}
