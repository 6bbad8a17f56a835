/**
 * One wrapper for every storage operation of every engine: it turns any
 * failure into a {@linkcode StorageError} that names the operation, and makes
 * a database span when a recorded span is active.
 *
 * @module
 */
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { StorageError } from "./errors.ts";

/**
 * Runs a storage operation (synchronous for SQLite, asynchronous for
 * PostgreSQL) and turns any failure into a {@linkcode StorageError} naming
 * `action`, keeping the original error as `cause` for the logs.
 *
 * Database spans are made here: one per operation, named by `action`, as a
 * child of the request's or job's span when that span is recorded (a
 * collector is configured). Outside any span (the queue looking for work, a
 * metrics callback) it makes none: those calls would each start a trace of
 * their own and bury the ones that matter.
 */
export function runStorage<T>(
  system: "sqlite" | "postgresql",
  action: string,
  work: () => T | Promise<T>,
): Promise<T> {
  // Only the OpenTelemetry API, never services/telemetry: db/ imports no
  // service. The tracer is looked up per call (a cached map lookup) because
  // the provider behind it is registered, and in tests replaced, later.
  const span = trace.getActiveSpan()?.isRecording() !== true
    ? undefined
    : trace.getTracer("reportd.db").startSpan(action, {
      kind: SpanKind.CLIENT,
      attributes: { "db.system.name": system, "db.query.summary": action },
    });
  const failed = (error: unknown): Promise<never> => {
    span?.recordException(error as Error);
    span?.setStatus({ code: SpanStatusCode.ERROR });
    span?.end();
    if (error instanceof StorageError) return Promise.reject(error);
    return Promise.reject(new StorageError(`Cannot ${action}`, { cause: error }));
  };
  let result: T | Promise<T>;
  try {
    result = work();
  } catch (error) {
    return failed(error);
  }
  if (!(result instanceof Promise)) {
    span?.end();
    return Promise.resolve(result);
  }
  return result.then((value) => {
    span?.end();
    return value;
  }, failed);
}
