/**
 * The one async context reportd keeps per request or job: OpenTelemetry's.
 * It carries the active span and the log fields (`request_id`, `report_id`)
 * that every log line written inside it gets.
 *
 * One context, not two: LogTape can keep implicit log fields in an
 * AsyncLocalStorage of its own, but a second store per request cost as much
 * as the whole server span (docs/benchmarks.md), and it would say nothing
 * the span's context cannot say.
 *
 * @module
 */
import { type Context, context, createContextKey, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

const LOG_FIELDS = createContextKey("reportd.log_fields");

let ready = false;

/**
 * Registers the context manager and the W3C propagator (once per process;
 * both are stateless) so that the active context follows `await`s and
 * `traceparent`/`tracestate` headers can be read and written.
 */
export function ensureContextPropagation(): void {
  if (ready) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  ready = true;
}

/** `base` with `fields` added to the log fields it carries (inner values win). */
export function withLogFields(base: Context, fields: Record<string, unknown>): Context {
  const outer = logFields(base);
  return base.setValue(LOG_FIELDS, outer === undefined ? fields : { ...outer, ...fields });
}

/** The log fields `ctx` carries, if any. */
export function logFields(ctx: Context): Record<string, unknown> | undefined {
  return ctx.getValue(LOG_FIELDS) as Record<string, unknown> | undefined;
}
