/**
 * Per-request telemetry: the server span, the request metrics, and one
 * access log line per request.
 *
 * The access line has exactly these fields besides LogTape's own
 * (`@timestamp`, `level`, `message`, `logger`): `request_id`, `method`,
 * `route` (the template, `/v1/reports/:id`, never the id itself; null when
 * no route matched), `status`, `duration_ms`, `bytes_in`, `bytes_out`,
 * `trace_id`, `span_id`. Headers and bodies are never logged, so neither are
 * `Authorization`, cookies or uploaded data.
 *
 * @module
 */
import { context } from "@opentelemetry/api";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Telemetry } from "../../services/telemetry/mod.ts";
import { getLogger, roundMilliseconds, withContext } from "../../services/telemetry/logger.ts";
import type { AppEnv } from "./request_id.ts";

/** Statuses whose responses have no body by definition. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Methods whose requests carry a body worth counting. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Opens the server span (continuing the caller's trace when it sends
 * `traceparent`), runs the request inside it with `request_id` on every log
 * line, then records the metrics and writes the access line.
 *
 * Must run after `requestId()` (it reads the id) and before
 * everything else (so their work is inside the span and the duration).
 */
export function requestTelemetry(telemetry: Pick<Telemetry, "http">): MiddlewareHandler<AppEnv> {
  const log = getLogger(["reportd", "http", "access"]);
  return async function requestTelemetryMiddleware(c, next) {
    const scope = telemetry.http.start({
      method: c.req.method,
      path: c.req.path,
      headers: c.req.raw.headers,
    });
    const requestId = c.get("requestId");
    const bytesIn = countRequestBytes(c);
    await context.with(scope.context, () => withContext({ request_id: requestId }, next));
    const route = routeTemplate(c);

    function finish(bytesOut: number): void {
      const status = c.res.status;
      const elapsedMs = scope.finish({ route, status, error: c.error });
      log.info("{method} {route} answered {status} in {duration_ms} ms", {
        request_id: requestId,
        method: c.req.method,
        route: route ?? null,
        status,
        duration_ms: roundMilliseconds(elapsedMs),
        bytes_in: bytesIn(),
        bytes_out: bytesOut,
        trace_id: scope.traceId,
        span_id: scope.spanId,
      });
    }

    const size = await responseSize(c);
    if (size !== undefined) {
      finish(size);
      return;
    }
    // A streamed body: count it as it goes out, and log when it has.
    countStreamedResponse(c, finish);
  };
}

/**
 * The route template that answered: the path a handler was registered with.
 * Global middleware (`app.use`) is registered for `/*`; a response that came
 * from there (404, 405) matched no route.
 */
function routeTemplate(c: Context): string | undefined {
  const route = matchedRoutes(c)[c.req.routeIndex];
  if (route === undefined || route.path === "/*" || route.path === "*") return undefined;
  return route.path;
}

/**
 * Returns a function giving the request body's size: its `Content-Length`,
 * or for a chunked body the bytes actually read (counted as they stream
 * past, without buffering).
 */
function countRequestBytes(c: Context): () => number {
  const declared = c.req.header("content-length");
  if (declared !== undefined) {
    const size = Number(declared);
    return () => (Number.isSafeInteger(size) && size >= 0 ? size : 0);
  }
  const body = BODY_METHODS.has(c.req.method) ? c.req.raw.body : null;
  if (body === null) return () => 0;
  let counted = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      counted += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  c.req.raw = new Request(c.req.raw, {
    body: body.pipeThrough(counter),
    duplex: "half",
  } as RequestInit);
  return () => counted;
}

/**
 * The response body's size, or undefined for a streamed body (which must not
 * be buffered). A body of unknown length is read into memory and given a
 * `Content-Length`: for the strings and JSON reportd answers with, that is the
 * encoding `Deno.serve` would do anyway, and the body stays a fixed buffer that
 * Deno sends without a JavaScript stream.
 */
async function responseSize(c: Context): Promise<number | undefined> {
  // HEAD: Hono runs the GET handler and drops the body after this middleware.
  if (c.req.method === "HEAD" || NULL_BODY_STATUSES.has(c.res.status)) return 0;
  const declared = c.res.headers.get("content-length");
  if (declared !== null) return Number(declared);
  if (isStreamed(c.res)) return undefined;
  const original = c.res;
  const body = new Uint8Array(await original.arrayBuffer());
  const headers = new Headers(original.headers);
  headers.set("content-length", String(body.byteLength));
  replaceResponse(c, new Response(body, { status: original.status, headers }));
  return body.byteLength;
}

function isStreamed(response: Response): boolean {
  const type = response.headers.get("content-type") ?? "";
  return response.headers.has("transfer-encoding") || type.startsWith("text/event-stream") ||
    type.startsWith("application/x-ndjson");
}

function countStreamedResponse(c: Context, finish: (bytesOut: number) => void): void {
  const original = c.res;
  let sent = 0;
  let done = false;
  function end(): void {
    if (done) return;
    done = true;
    finish(sent);
  }
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush: end,
    // The client went away mid-stream: log what it got.
    cancel: end,
  });
  const body = original.body?.pipeThrough(counter) ?? null;
  if (body === null) end();
  replaceResponse(
    c,
    new Response(body, { status: original.status, headers: original.headers }),
  );
}

// Assigning to `c.res` while a response exists makes Hono copy it through its
// body stream; clearing it first keeps our fixed-buffer body as it is (the
// headers were already copied over).
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}
