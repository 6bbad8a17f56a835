/**
 * Structured logging with LogTape.
 *
 * Every module logs through `getLogger(["reportd", "<module>"])`, so an
 * operator can raise one module's level without drowning in the rest. Lines
 * are JSON (one object per line, for `jq` and log shippers) unless stdout is a
 * terminal, where coloured text is easier to read.
 *
 * @module
 */
import {
  ansiColorFormatter,
  configure,
  getConsoleSink,
  getJsonLinesFormatter,
  type LogLevel,
  reset,
  type Sink,
} from "@logtape/logtape";

export { getLogger } from "@logtape/logtape";

// JSON lines keep the message *template* ("Received {signal}") and put the
// values in top-level fields: every occurrence of an event has the same
// message, so log tools can group and count it, and `jq '.signal'` works.
const JSON_LINES = getJsonLinesFormatter({ message: "template", properties: "flatten" });

/** Options for {@linkcode configureLogging}. */
export interface LoggingOptions {
  /** Lowest severity written. */
  level: LogLevel;
  /** `json` or `pretty`; undefined picks json unless stdout is a terminal. */
  format?: "json" | "pretty";
  /** Where records go; defaults to stdout. Tests pass a capturing sink. */
  sink?: Sink;
}

/**
 * Sets up LogTape for the `reportd` category tree. Safe to call again: the
 * previous configuration is replaced.
 */
export async function configureLogging(options: LoggingOptions): Promise<void> {
  const format = options.format ?? (Deno.stdout.isTerminal() ? "pretty" : "json");
  const sink = options.sink ?? getConsoleSink({
    formatter: format === "json" ? JSON_LINES : ansiColorFormatter,
  });
  await configure({
    reset: true,
    sinks: { main: sink },
    loggers: [
      { category: ["reportd"], lowestLevel: options.level, sinks: ["main"] },
      // LogTape reports its own problems (a failing sink, say) here.
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["main"] },
    ],
  });
}

/** Removes the logging configuration and flushes sinks (at shutdown and between tests). */
export async function resetLogging(): Promise<void> {
  await reset();
}
