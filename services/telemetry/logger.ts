/**
 * Structured logging with LogTape.
 *
 * Every module logs through `getLogger(["reportd", "<module>"])`, so an
 * operator can raise one module's level without drowning in the rest
 * (`LOG_MODULE_LEVELS=db=debug,http.access=warning`). Lines are JSON (one
 * object per line, for `jq` and log shippers) unless stdout is a terminal,
 * where coloured text is easier to read.
 *
 * Two things are added to every record on its way to the sink, so no call
 * site has to remember them: the `trace_id` and `span_id` of the active
 * OpenTelemetry span (a log line leads straight to its trace), and
 * redaction of fields whose name says they hold a secret.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { isSpanContextValid, trace } from "@opentelemetry/api";
import {
  ansiColorFormatter,
  configure,
  getConsoleSink,
  getJsonLinesFormatter,
  type LoggerConfig,
  type LogLevel,
  type LogRecord,
  reset,
  type Sink,
} from "@logtape/logtape";

export { getLogger, withContext } from "@logtape/logtape";

/**
 * Formats a record as one JSON line (with its trailing newline), exactly as
 * production writes it. Tests format captured records with it.
 *
 * JSON lines keep the message *template* ("Received {signal}") and put the
 * values in top-level fields: every occurrence of an event has the same
 * message, so log tools can group and count it, and `jq '.signal'` works.
 */
export const formatJsonLine: (record: LogRecord) => string = getJsonLinesFormatter({
  message: "template",
  properties: "flatten",
});

/** Options for {@linkcode configureLogging}. */
export interface LoggingOptions {
  /** Lowest severity written. */
  level: LogLevel;
  /** `json` or `pretty`; undefined picks json unless stdout is a terminal. */
  format?: "json" | "pretty";
  /**
   * Levels for single modules, by category below `reportd` (`db`,
   * `http.access`, ...). A module may be louder or quieter than `level`.
   */
  moduleLevels?: Record<string, LogLevel>;
  /** Where records go; defaults to stdout. Tests pass a capturing sink. */
  sink?: Sink;
}

/**
 * Sets up LogTape for the `reportd` category tree. Safe to call again: the
 * previous configuration is replaced.
 *
 * @example Capture JSON lines in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   configureLogging,
 *   formatJsonLine,
 *   getLogger,
 *   resetLogging,
 * } from "./logger.ts";
 *
 * const lines: string[] = [];
 * await configureLogging({ level: "info", sink: (record) => lines.push(formatJsonLine(record)) });
 * getLogger(["reportd", "example"]).info("Hello {name}", { name: "reportd", token: "s3cret" });
 * await resetLogging();
 * const line = JSON.parse(lines[0]);
 * assert.equal(line.message, "Hello {name}");
 * assert.equal(line.token, "[redacted]");
 * ```
 */
export async function configureLogging(options: LoggingOptions): Promise<void> {
  const format = options.format ?? (Deno.stdout.isTerminal() ? "pretty" : "json");
  const sink = options.sink ?? getConsoleSink({
    formatter: format === "json" ? formatJsonLine : ansiColorFormatter,
    // Every level to stdout (console.info), errors included: one stream of
    // lines, in order, for `jq`, `journalctl` and log shippers alike.
    levelMap: STDOUT_LEVELS,
  });
  await configure({
    reset: true,
    // Implicit context (`withContext({ request_id }, ...)`) follows a request
    // across awaits; AsyncLocalStorage is what carries it.
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { main: enrichRecords(sink) },
    loggers: [
      { category: ["reportd"], lowestLevel: options.level, sinks: ["main"] },
      ...Object.entries(options.moduleLevels ?? {}).map(([name, level]) =>
        moduleLogger(name, level, options.level)
      ),
      // LogTape reports its own problems (a failing sink, say) here.
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}

/** Removes the logging configuration and flushes sinks (at shutdown and between tests). */
export async function resetLogging(): Promise<void> {
  await reset();
}

const STDOUT_LEVELS: Record<LogLevel, "info"> = {
  trace: "info",
  debug: "info",
  info: "info",
  warning: "info",
  error: "info",
  fatal: "info",
};

const LEVEL_ORDER: readonly LogLevel[] = ["trace", "debug", "info", "warning", "error", "fatal"];

// A quieter module simply raises its threshold and inherits the sink. A louder
// one needs the sink itself: a record passed up to `reportd` would be dropped
// there by the default level, so it overrides its parent's sinks instead.
function moduleLogger(name: string, level: LogLevel, defaultLevel: LogLevel): LoggerConfig<
  "main",
  never
> {
  const category = ["reportd", ...name.split(".")];
  if (LEVEL_ORDER.indexOf(level) >= LEVEL_ORDER.indexOf(defaultLevel)) {
    return { category, lowestLevel: level };
  }
  return { category, lowestLevel: level, sinks: ["main"], parentSinks: "override" };
}

// Field names that carry credentials. reportd never logs headers or bodies;
// this is the safety net for a future call site that forgets.
const SECRET_FIELD = /authorization|cookie|password|passwd|secret|token|api[-_]?key/i;

function enrichRecords(sink: Sink): Sink {
  return function enrichedSink(record: LogRecord): void {
    let properties = record.properties;
    // Sinks run synchronously inside the logging call, so the active span
    // here is the one of the code that logged.
    const span = trace.getActiveSpan()?.spanContext();
    if (span !== undefined && isSpanContextValid(span) && !("trace_id" in properties)) {
      properties = { ...properties, trace_id: span.traceId, span_id: span.spanId };
    }
    if (Object.keys(properties).some((key) => SECRET_FIELD.test(key))) {
      properties = redact(properties) as Record<string, unknown>;
    }
    sink(properties === record.properties ? record : { ...record, properties });
  };
}

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== "object" || Array.isArray(value)) {
    return value;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SECRET_FIELD.test(key) ? "[redacted]" : redact(inner, depth + 1);
  }
  return copy;
}

/**
 * Milliseconds rounded to the microsecond, for `duration_ms` fields: finer
 * digits are noise, and shorter numbers keep lines short.
 */
export function roundMilliseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
