/**
 * Requests in flight, so that shutdown can let them finish before the server
 * stops: `Deno.serve`'s graceful `shutdown()` waits for responses, but it
 * cuts request bodies still arriving (the handler's read fails with
 * `BadResource`), which turned an upload in progress at SIGTERM into a
 * dropped connection although the README promises that in-flight requests
 * finish.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./request_id.ts";

/**
 * A set of the requests being handled, with a way to wait for those in
 * flight now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InflightRequests } from "./inflight.ts";
 * const inflight = new InflightRequests();
 * assert.equal(inflight.size, 0);
 * assert.equal(await inflight.settled(10), true);
 * ```
 */
export class InflightRequests {
  #running = new Set<Promise<unknown>>();

  /** Requests being handled now. */
  get size(): number {
    return this.#running.size;
  }

  /** Tracks `request` (a handler's promise) until it settles. */
  track(request: Promise<unknown>): void {
    this.#running.add(request);
    request.finally(() => this.#running.delete(request)).catch(() => {});
  }

  /**
   * Resolves true once every request in flight now has been answered, or
   * false after `timeoutMs`. Requests that arrive later are not waited for:
   * during shutdown they are refused quickly (uploads get 503), and a busy
   * keep-alive client must not hold the stop off forever.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    const now = [...this.#running];
    if (now.length === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([Promise.allSettled(now).then(() => true), expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Middleware that tracks every request in `inflight` until its handler returns. */
export function trackInflight(inflight: InflightRequests): MiddlewareHandler<AppEnv> {
  return async function trackInflightMiddleware(_c, next) {
    const handled = next();
    inflight.track(handled);
    await handled;
  };
}
