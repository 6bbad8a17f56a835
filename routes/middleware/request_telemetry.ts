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
import type { Logger } from "@logtape/logtape";
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Telemetry } from "../../services/telemetry/mod.ts";
import { withLogFields } from "../../services/telemetry/context.ts";
import { getLogger, logInfoFast, roundMilliseconds } from "../../services/telemetry/logger.ts";
import { requestPath } from "./host.ts";
import type { AppEnv } from "./request_id.ts";

/** Statuses whose responses have no body by definition. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

// deno-lint-ignore no-control-regex
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Methods whose requests carry a body worth counting. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The fields of an access line, in the order they are written. A type, not
 * an interface, so that it is a record of plain values to the logger as is.
 */
export type AccessLine = {
  /** The request's id (`X-Request-Id`). */
  request_id: string;
  /** The method as sent. */
  method: string;
  /** The route template, null when no route matched. */
  route: string | null;
  /** The response status. */
  status: number;
  /** From the request's arrival to the response, rounded. */
  duration_ms: number;
  /** The request body's size. */
  bytes_in: number;
  /** The response body's size. */
  bytes_out: number;
  /** The trace this request belongs to. */
  trace_id: string;
  /** The server span's id. */
  span_id: string;
};

/** The logger access lines go to (`reportd.http.access`). */
export function accessLogger(): Logger {
  return getLogger(["reportd", "http", "access"]);
}

/**
 * Writes one access line. The one place its message is spelled, for the
 * middleware below and for the fast lane (routes/fast_lane.ts).
 */
export function writeAccessLine(log: Logger, line: AccessLine): void {
  logInfoFast(log, "{method} {route} answered {status} in {duration_ms} ms", line);
}

/**
 * Opens the server span (continuing the caller's trace when it sends
 * `traceparent`), runs the request inside it with `request_id` on every log
 * line, then records the metrics and writes the access line.
 *
 * Must run after `requestId()` (it reads the id) and before
 * everything else (so their work is inside the span and the duration).
 */
export function requestTelemetry(telemetry: Pick<Telemetry, "http">): MiddlewareHandler<AppEnv> {
  const log = accessLogger();
  return async function requestTelemetryMiddleware(c, next) {
    const scope = telemetry.http.start({
      method: c.req.method,
      path: requestPath(c),
      headers: c.req.raw.headers,
    });
    const requestId = c.get("requestId");
    const bytesIn = countRequestBytes(c);
    const bodySize = watchResponseBodies(c);
    await context.with(withLogFields(scope.context, { request_id: requestId }), next);
    const route = routeTemplate(c);

    function finish(bytesOut: number): void {
      const status = c.res.status;
      const elapsedMs = scope.finish({ route, status, error: c.error });
      writeAccessLine(log, {
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

    const size = responseSize(c, bodySize());
    if (size !== undefined) {
      finish(size);
      return;
    }
    // A body of unknown length (a stream): count it as it goes out, and log
    // when it has.
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
 * Wraps Hono's response helpers for this request (`c.body`, `c.text`,
 * `c.json`) to note the size of the body each is given, and returns a
 * function giving the size of the final response's body when it came from
 * one of them.
 *
 * Why at the helpers: a `Response` does not reveal its length, and reading it
 * back would copy the body and move it off the fixed-buffer path `Deno.serve`
 * sends without JavaScript (measured: it halved read-path throughput). The
 * helpers see the string or bytes before they become a `Response`, where the
 * size costs one pass over a string at most.
 */
function watchResponseBodies(c: Context): () => number | undefined {
  let response: Response | undefined;
  let size: number | undefined;
  // Hono's helpers are typed per route; here only their runtime shape matters.
  const helpers = c as unknown as Record<"body" | "text" | "json", ResponseHelper>;
  const { body, text } = helpers;
  function noted(result: Response, data: unknown): Response {
    response = result;
    size = knownSize(data);
    return result;
  }
  helpers.body = function bodyNoted(data, arg, headers) {
    return noted(body(data, arg, headers), data);
  };
  helpers.text = function textNoted(data, arg, headers) {
    return noted(text(data, arg, headers), data);
  };
  // What Hono's c.json does, with the serialized body kept for its size.
  helpers.json = function jsonNoted(object, arg, headers) {
    const data = JSON.stringify(object);
    return noted(body(data, arg, { "Content-Type": "application/json", ...headers }), data);
  };
  return () => (response !== undefined && c.res === response ? size : undefined);
}

type ResponseHelper = (
  data: unknown,
  arg?: unknown,
  headers?: Record<string, string | string[]>,
) => Response;

/** The byte size of a body as handed to a response helper, if it can be known without reading it. */
function knownSize(data: unknown): number | undefined {
  if (data === null || data === undefined) return 0;
  if (typeof data === "string") return utf8Length(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return undefined;
}

/**
 * The UTF-8 length of `text` without encoding it: one byte per ASCII unit,
 * two up to U+07FF, four per surrogate pair, three otherwise (a lone
 * surrogate becomes U+FFFD, also three).
 */
function utf8Length(text: string): number {
  // Most bodies are ASCII JSON: one native scan settles them.
  if (ASCII_ONLY.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // two units, four bytes
        i++;
      } else {
        bytes += 2;
      }
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * The response body's size when it is known without reading the body: none
 * for HEAD and bodiless statuses, else the size noted at Hono's helpers, else
 * `Content-Length`. Undefined means a body to count as it streams.
 */
function responseSize(c: Context, noted: number | undefined): number | undefined {
  // HEAD: Hono runs the GET handler and drops the body after this middleware.
  if (c.req.method === "HEAD" || NULL_BODY_STATUSES.has(c.res.status)) return 0;
  if (noted !== undefined) return noted;
  const declared = c.res.headers.get("content-length");
  if (declared !== null) return Number(declared);
  return c.res.body === null ? 0 : undefined;
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

// Assigning to `c.res` while a response exists makes Hono copy it into a new
// Response, headers merged; clearing it first keeps ours as it is (it already
// has the original's headers).
function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}
