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
import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import {
  configure,
  getAnsiColorFormatter,
  getJsonLinesFormatter,
  type Logger,
  type LoggerConfig,
  type LogLevel,
  type LogRecord,
  reset,
  type Sink,
} from "@logtape/logtape";

import { ensureContextPropagation, logFields, withLogFields } from "./context.ts";
import { getBatchedStdoutSink } from "./stdout_sink.ts";

export { getLogger } from "@logtape/logtape";

// JSON lines keep the message *template* ("Received {signal}") and put the
// values in top-level fields: every occurrence of an event has the same
// message, so log tools can group and count it, and `jq '.signal'` works.
const LOGTAPE_JSON_LINES = getJsonLinesFormatter({ message: "template", properties: "flatten" });

// C1 control characters are valid JSON but can drive a terminal; LogTape
// escapes them, and so does the fast path.
const C1_CONTROLS = /[\u007f-\u009f]/g;
const C1_CONTROL = /[\u007f-\u009f]/;

/**
 * Formats a record as one JSON line (with its trailing newline), exactly as
 * production writes it. Tests format captured records with it.
 *
 * The output is LogTape's JSON Lines format. When every field is a plain
 * number, string, boolean or null (the access line, most lines) it is built
 * with one `JSON.stringify`, without the replacer LogTape needs for errors,
 * cycles and bigints: the same bytes at about half the cost, on the line that
 * every request writes.
 */
export function formatJsonLine(record: LogRecord): string {
  if (typeof record.rawMessage !== "string") return LOGTAPE_JSON_LINES(record);
  const properties = record.properties;
  let plainKeys = true;
  for (const key in properties) {
    const value = properties[key];
    if ((value !== null && typeof value === "object") || typeof value === "bigint") {
      return LOGTAPE_JSON_LINES(record);
    }
    // A key that is an array index (V8 puts those first) or that shadows one
    // of LogTape's own fields changes the order of the merged object.
    const first = key.charCodeAt(0);
    if ((first >= 48 && first <= 57) || LOGTAPE_FIELDS.has(key)) plainKeys = false;
  }
  const level = record.level === "warning" ? "WARN" : record.level.toUpperCase();
  let json: string;
  if (plainKeys) {
    // The same bytes as the merged object below, without building it: the
    // fields are concatenated, and the properties are serialized on their own
    // (1.7 instead of 2.6 us per access line, measured for issue 15).
    const rest = JSON.stringify(properties);
    json = `{"@timestamp":"${isoTimestamp(record.timestamp)}","level":"${level}","message":${
      JSON.stringify(record.rawMessage)
    },"logger":${JSON.stringify(record.category.join("."))}${
      rest.length > 2 ? `,${rest.slice(1)}` : "}"
    }`;
  } else {
    json = JSON.stringify({
      "@timestamp": isoTimestamp(record.timestamp),
      level,
      message: record.rawMessage,
      logger: record.category.join("."),
      ...properties,
    });
  }
  // Test first: a replace with a function scans the line on V8's slow path
  // even when nothing matches, and almost no line has a C1 control (2.4 of
  // the 25.5 us of a read with telemetry on, bench:read-path, issue 15).
  return C1_CONTROL.test(json) ? `${json.replace(C1_CONTROLS, escapeControl)}\n` : `${json}\n`;
}

const LOGTAPE_FIELDS = new Set(["@timestamp", "level", "message", "logger"]);

// Under load many lines share a millisecond; the last one's ISO string is kept.
let lastTimestamp = NaN;
let lastIso = "";

function isoTimestamp(timestamp: number): string {
  if (timestamp !== lastTimestamp) {
    lastTimestamp = timestamp;
    lastIso = new Date(timestamp).toISOString();
  }
  return lastIso;
}

function escapeControl(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

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
  // Every level goes to stdout, errors included: one stream of lines, in
  // order, for `jq`, `journalctl` and log shippers alike.
  const stdout = options.sink === undefined
    ? getBatchedStdoutSink(format === "json" ? formatJsonLine : prettyFormatter)
    : undefined;
  const sink = options.sink ?? stdout!;
  // The fast lane of logInfoFast() exists only where its output is known to
  // be exactly the sink's: JSON lines to stdout.
  fastLines = format === "json" ? stdout?.writeRecord : undefined;
  // Log fields set with withContext() follow a request across awaits in
  // OpenTelemetry's context, which needs its context manager.
  ensureContextPropagation();
  await configure({
    reset: true,
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

/**
 * Runs `callback` with `fields` on every log line written inside it, across
 * `await`s (a request's `request_id`, a job's `report_id`). Fields given to a
 * log call directly win over these.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configureLogging, formatJsonLine, getLogger, resetLogging, withContext } from "./logger.ts";
 *
 * const lines: string[] = [];
 * await configureLogging({ level: "info", sink: (record) => lines.push(formatJsonLine(record)) });
 * await withContext({ request_id: "r-1" }, async () => {
 *   await Promise.resolve();
 *   getLogger(["reportd", "example"]).info("Inside");
 * });
 * await resetLogging();
 * assert.equal(JSON.parse(lines[0]).request_id, "r-1");
 * ```
 */
export function withContext<T>(fields: Record<string, unknown>, callback: () => T): T {
  return context.with(withLogFields(context.active(), fields), callback);
}

/** Removes the logging configuration and flushes sinks (at shutdown and between tests). */
export async function resetLogging(): Promise<void> {
  fastLines = undefined;
  await reset();
}

// Strings bare in the terminal: quoted, `Listening on http://"0.0.0.0":8000`
// was no address anyone could copy.
const prettyFormatter = getAnsiColorFormatter({ value: "bare" });

/** Where logInfoFast() writes its lines, when the configuration allows a fast lane. */
let fastLines: ((record: LogRecord) => void) | undefined;

/**
 * Logs `message` at info level through `logger`, in a fast lane when logging
 * goes to stdout as JSON: the line is formatted here and queued for the sink
 * directly, skipping LogTape's general dispatch (filters, sink plans, context
 * lookups), which under load cost several microseconds per line. The level
 * check is LogTape's own, so `LOG_MODULE_LEVELS` still applies, and the bytes
 * are exactly those of {@linkcode formatJsonLine}.
 *
 * For the one line every request writes (the access line). Its `properties`
 * must be complete: unlike {@linkcode getLogger} lines, no trace ids or
 * context fields are added. They must not change afterwards either: the line
 * is formatted when its batch is written (stdout_sink.ts), not now. Anything
 * else (a secret-looking field, another format, a test's sink) takes the
 * ordinary path.
 *
 * @example
 * ```ts
 * import { getLogger, logInfoFast } from "./logger.ts";
 * logInfoFast(getLogger(["reportd", "example"]), "{method} answered", { method: "GET" });
 * ```
 */
export function logInfoFast(
  logger: Logger,
  message: string,
  properties: Record<string, string | number | boolean | null>,
): void {
  if (!logger.isEnabledFor("info")) return;
  if (fastLines === undefined || hasSecretField(properties)) {
    logger.info(message, properties);
    return;
  }
  fastLines({
    category: logger.category,
    level: "info",
    timestamp: Date.now(),
    rawMessage: message,
    message: [message],
    properties,
  });
}

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
    // Sinks run synchronously inside the logging call, so the active context
    // here is the one of the code that logged: its span and its log fields.
    const active = context.active();
    const span = trace.getSpan(active)?.spanContext();
    const fields = logFields(active);
    const properties = record.properties;
    const addIds = span !== undefined && isSpanContextValid(span) && !("trace_id" in properties);
    const secret = hasSecretField(properties);
    // The common case (the access line: everything given, nothing secret) passes as is.
    if (!addIds && fields === undefined && !secret) return sink(record);
    let enriched: Record<string, unknown> = { ...fields, ...properties };
    if (addIds) enriched = { ...enriched, trace_id: span.traceId, span_id: span.spanId };
    if (secret) enriched = redact(enriched) as Record<string, unknown>;
    sink({
      category: record.category,
      level: record.level,
      timestamp: record.timestamp,
      rawMessage: record.rawMessage,
      // Rendering the message costs; only a sink that shows it pays for it.
      get message() {
        return record.message;
      },
      properties: enriched,
    });
  };
}

// Field names repeat from line to line, so each is tested against the pattern once.
const secretVerdicts = new Map<string, boolean>();

function hasSecretField(properties: Record<string, unknown>, depth = 0): boolean {
  for (const key in properties) {
    let secret = secretVerdicts.get(key);
    if (secret === undefined) {
      secret = SECRET_FIELD.test(key);
      if (secretVerdicts.size < 10_000) secretVerdicts.set(key, secret);
    }
    if (secret) return true;
    const value = properties[key];
    if (
      depth < 4 && value !== null && typeof value === "object" && !Array.isArray(value) &&
      hasSecretField(value as Record<string, unknown>, depth + 1)
    ) {
      return true;
    }
  }
  return false;
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
