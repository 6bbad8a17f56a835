/**
 * Telemetry of HTTP server requests, per the OpenTelemetry semantic
 * conventions: the server span, `http.server.request.duration` and
 * `http.server.active_requests`.
 *
 * This module knows nothing of Hono: the middleware in
 * `routes/middleware/request_telemetry.ts` hands it the method, path, headers
 * and, at the end, the route template and status.
 *
 * Metric attributes are bounded on purpose: the method is one of the
 * standard ones or `_OTHER`, the route is a template registered in code
 * (`/v1/reports/:id`, never an id), the status is a number. A client cannot
 * mint new time series by sending odd requests.
 *
 * @module
 */
import {
  type Context,
  type Meter,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { RequestDurations } from "./request_durations.ts";
import { extractTraceContext } from "./tracing.ts";

/** What the server knows when a request arrives. */
export interface IncomingRequest {
  /** The HTTP method as sent. */
  method: string;
  /** The URL path (recorded on the span only, never as a metric attribute). */
  path: string;
  /** The request headers; `traceparent` and `tracestate` are read from them. */
  headers: Headers;
}

/** How a request ended. */
export interface RequestOutcome {
  /** The matched route template, or undefined when no route matched. */
  route: string | undefined;
  /** The response status code. */
  status: number;
  /** The error a handler threw, if any (recorded on the span for 5xx). */
  error?: unknown;
}

/** One request in flight: run the handler in `context`, then call `finish` once. */
export interface ServerRequestScope {
  /** The context holding the server span; run the handler inside it. */
  readonly context: Context;
  /** The trace id (32 hex digits), the caller's when it sent `traceparent`. */
  readonly traceId: string;
  /** The server span's id (16 hex digits). */
  readonly spanId: string;
  /** The method as recorded: a standard method or `_OTHER`. */
  readonly method: string;
  /** Ends the span and records the metrics; returns the duration in milliseconds. */
  finish(outcome: RequestOutcome): number;
}

/** Starts the telemetry of each request. */
export interface HttpServerTelemetry {
  /** Opens the server span (a child of the caller's, if any) and counts the request active. */
  start(request: IncomingRequest): ServerRequestScope;
}

/** The semantic conventions' histogram boundaries for request durations, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
];

const KNOWN_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

/**
 * Creates the HTTP server instruments on `meter` and returns the per-request
 * entry point.
 */
export function createHttpServerTelemetry(
  meter: Meter,
  tracer: Tracer,
  options: { durations: RequestDurations },
): HttpServerTelemetry {
  const { durations } = options;
  // Counted in a plain map and observed on collection: the same numbers as
  // an UpDownCounter updated twice per request, without two SDK calls (each
  // hashing its attributes) on every request.
  const inFlight = new Map<string, number>();
  meter.createObservableUpDownCounter("http.server.active_requests", {
    description: "Number of HTTP server requests in flight",
    unit: "{request}",
  }).addCallback((result) => {
    for (const [method, count] of inFlight) {
      result.observe(count, { "http.request.method": method });
    }
  });
  return {
    start(request: IncomingRequest): ServerRequestScope {
      const started = performance.now();
      const method = normalizeMethod(request.method);
      const parent = extractTraceContext(request.headers);
      const span = tracer.startSpan(method, {
        kind: SpanKind.SERVER,
        attributes: {
          "http.request.method": method,
          "url.path": request.path,
          "url.scheme": "http",
        },
      }, parent);
      inFlight.set(method, (inFlight.get(method) ?? 0) + 1);
      const { traceId, spanId } = span.spanContext();
      let finished = false;
      return {
        context: trace.setSpan(parent, span),
        traceId,
        spanId,
        method,
        finish(outcome: RequestOutcome): number {
          const elapsedMs = performance.now() - started;
          if (finished) return elapsedMs;
          finished = true;
          inFlight.set(method, (inFlight.get(method) ?? 1) - 1);
          durations.record(elapsedMs / 1000, {
            method,
            route: outcome.route,
            status: outcome.status,
          });
          endServerSpan(span, method, outcome);
          return elapsedMs;
        },
      };
    },
  };
}

/**
 * A standard method as is, anything else as `_OTHER` (the semantic
 * conventions' rule, which keeps a made-up method out of the metrics).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeMethod } from "./http.ts";
 * assert.equal(normalizeMethod("get"), "GET");
 * assert.equal(normalizeMethod("BREW"), "_OTHER");
 * ```
 */
export function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : "_OTHER";
}

function endServerSpan(span: Span, method: string, outcome: RequestOutcome): void {
  if (outcome.route !== undefined) {
    span.updateName(`${method} ${outcome.route}`);
    span.setAttribute("http.route", outcome.route);
  }
  span.setAttribute("http.response.status_code", outcome.status);
  // For a server, a 4xx is the client's mistake, not a failed operation.
  if (outcome.status >= 500) {
    span.setAttribute("error.type", String(outcome.status));
    span.setStatus({ code: SpanStatusCode.ERROR });
    if (outcome.error instanceof Error) span.recordException(outcome.error);
  }
  span.end();
}
