/**
 * A maximum handler time for the routes that answer from what they have
 * (reads, deletes, probes, docs), built on `hono/timeout`.
 *
 * Uploads are exempt: their time is governed by the body deadline
 * (`REPORTD_BODY_TIMEOUT`, `REPORTD_BODY_MIN_RATE`), which measures the
 * client's pace instead of a fixed wall-clock budget that a large, honest
 * upload would exceed. Processing never counts: it runs in the worker pool
 * after the request was answered.
 *
 * A timeout answers the client; it cannot stop synchronous work already
 * running (a JavaScript function is not interruptible), so the handler's
 * result is dropped when it finally arrives. What this protects is the
 * client and every proxy in between from waiting without limit.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { timeout } from "hono/timeout";
import { AppError } from "../../services/errors.ts";
import { getLogger } from "../../services/telemetry/logger.ts";
import type { AppEnv } from "./request_id.ts";

const log = getLogger(["reportd", "http"]);

/**
 * Answers 503 with `Retry-After` when a handler (an upload excepted) runs
 * longer than `ms`.
 */
export function handlerTimeout(ms: number): MiddlewareHandler<AppEnv> {
  const seconds = Math.round(ms / 100) / 10;
  const limited = timeout(ms, (c) => {
    log.warn("{method} {path} exceeded the handler time of {seconds} s", {
      method: c.req.method,
      path: c.req.path,
      seconds,
    });
    // problem.ts answers the AppError carried as the cause like any other.
    return new HTTPException(503, {
      message: "Handler timeout",
      cause: new AppError("unavailable", `The request took longer than ${seconds} s; retry`, {
        retryAfterSeconds: 5,
      }),
    });
  });
  return async function handlerTimeoutMiddleware(c, next) {
    if (c.req.method === "POST" && c.req.path === "/v1/reports") return await next();
    await limited(c, next);
  };
}
