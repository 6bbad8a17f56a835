/**
 * Distributed tracing: the OpenTelemetry JS tracer provider, W3C trace
 * context in and out, and `fetch` with a client span.
 *
 * Spans are made whether or not a collector is configured: their ids are what
 * ties a log line to a request (`trace_id`, `span_id`). Without a collector
 * they are not recorded (ids only, which costs next to nothing); recording
 * and exporting them needs `OTEL_EXPORTER_OTLP_ENDPOINT`.
 *
 * The provider is registered as the global one, so code that must not import
 * services (the database layer) can still open child spans through
 * `@opentelemetry/api` alone; without a registered provider those calls are
 * no-ops.
 *
 * @module
 */
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ensureContextPropagation } from "./context.ts";
import { POOLED_ID_GENERATOR } from "./ids.ts";

/** Options for {@linkcode startTracing}. */
export interface TracingOptions {
  /** Who is tracing: service name, version, instance. */
  resource: Resource;
  /** Where finished spans go; none means spans only feed log correlation. */
  exporter?: SpanExporter;
}

/**
 * Creates the tracer provider and makes it the global one, replacing any
 * earlier one (a process has one telemetry at a time; tests start several in
 * turn).
 */
export function startTracing(options: TracingOptions): TracerProvider {
  ensureContextPropagation();
  const provider = new TracerProvider({
    resource: options.resource,
    // With a collector, a caller's sampling decision (the traceparent flag) is
    // honoured, so a trace is either complete across services or absent, and
    // our own roots are all sampled, which a single VPS can afford. Without
    // one, spans are never recorded: they still get ids (for the log lines and
    // for propagation), but no attributes, events or timing that nobody reads.
    sampler: options.exporter === undefined
      ? new AlwaysOffSampler()
      : new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    idGenerator: POOLED_ID_GENERATOR,
    spanProcessors: options.exporter === undefined ? [] : [
      new BatchSpanProcessor({
        exporter: options.exporter,
        // Explicit values: the defaults would be read from OTEL_BSP_* variables.
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 5000,
        exportTimeoutMillis: 30_000,
      }),
    ],
  });
  trace.disable();
  trace.setGlobalTracerProvider(provider);
  return provider;
}

/** Flushes and shuts down `provider`, and unregisters it if it is the global one. */
export async function stopTracing(provider: TracerProvider): Promise<void> {
  await provider.shutdown();
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  if (global.getDelegate?.() === provider) trace.disable();
}

/**
 * The parent context a request asks for through its `traceparent` and
 * `tracestate` headers; the root context when it sends none or garbage.
 */
export function extractTraceContext(headers: Headers): Context {
  // Most requests carry no trace context; skip the propagator for them.
  if (!headers.has("traceparent")) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, HEADERS_GETTER);
}

/**
 * The W3C `traceparent` of the active span, to store with work that continues
 * later (a queued job) so that work can link back; undefined outside a span.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentTraceparent } from "./tracing.ts";
 * assert.equal(currentTraceparent(), undefined); // no span is active here
 * ```
 */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The span context in a stored `traceparent`, or undefined when it is malformed. */
export function spanContextFromTraceparent(traceparent: string): SpanContext | undefined {
  const extracted = new W3CTraceContextPropagator().extract(
    ROOT_CONTEXT,
    { traceparent },
    {
      get(carrier, key) {
        return key === "traceparent" ? carrier.traceparent : undefined;
      },
      keys() {
        return ["traceparent"];
      },
    },
  );
  return trace.getSpanContext(extracted);
}

/**
 * `fetch` with a client span, carrying `traceparent` (and `tracestate`) to
 * the server so its spans join this trace. Every outgoing request of reportd
 * goes through here. The span ends when the response headers arrive.
 *
 * @example
 * ```ts ignore
 * const response = await tracedFetch("https://example.com/prices.csv", {
 *   signal: AbortSignal.timeout(10_000),
 * });
 * ```
 */
export async function tracedFetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
  const url = new URL(input);
  const method = (init.method ?? "GET").toUpperCase();
  const span = trace.getTracer("reportd").startSpan(method, {
    kind: SpanKind.CLIENT,
    attributes: {
      "http.request.method": method,
      "server.address": url.hostname,
      "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)),
      // Without the query string, which may carry credentials or user input.
      "url.full": `${url.origin}${url.pathname}`,
    },
  });
  const headers = new Headers(init.headers);
  const spanContext = trace.setSpan(context.active(), span);
  propagation.inject(spanContext, headers, HEADERS_SETTER);
  try {
    const response = await context.with(spanContext, () => fetch(url, { ...init, headers }));
    span.setAttribute("http.response.status_code", response.status);
    if (response.status >= 400) {
      span.setAttribute("error.type", String(response.status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    return response;
  } catch (error) {
    span.recordException(error as Error);
    span.setAttribute("error.type", (error as Error).name ?? "Error");
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}

const HEADERS_GETTER = {
  get(headers: Headers, key: string): string | undefined {
    return headers.get(key) ?? undefined;
  },
  keys(headers: Headers): string[] {
    return [...headers.keys()];
  },
};

const HEADERS_SETTER = {
  set(headers: Headers, key: string, value: string): void {
    headers.set(key, value);
  },
};
