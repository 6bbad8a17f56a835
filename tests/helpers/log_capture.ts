/**
 * Captures reportd's log output in memory, formatted exactly as production
 * writes it (JSON Lines), so tests can assert on the lines an operator reads.
 *
 * @module
 */
import type { LogLevel } from "@logtape/logtape";
import { configureLogging, formatJsonLine, resetLogging } from "../../services/telemetry/logger.ts";

/** Captured log lines; disposing it resets logging. */
export interface LogCapture extends AsyncDisposable {
  /** Every line written so far, each ending with a newline. */
  readonly lines: string[];
  /** The lines parsed as JSON (throws if one is not a JSON object). */
  records(): Record<string, unknown>[];
}

/**
 * Configures logging to write into memory until disposed.
 *
 * @example
 * ```ts ignore
 * await using logs = await captureLogs();
 * // ... requests ...
 * const access = logs.records().filter((line) => line.logger === "reportd.http.access");
 * ```
 */
export async function captureLogs(
  options: { level?: LogLevel; moduleLevels?: Record<string, LogLevel> } = {},
): Promise<LogCapture> {
  const lines: string[] = [];
  await configureLogging({
    level: options.level ?? "info",
    moduleLevels: options.moduleLevels,
    format: "json",
    sink: (record) => lines.push(formatJsonLine(record)),
  });
  return {
    lines,
    records(): Record<string, unknown>[] {
      return lines.map((line) => {
        const parsed = JSON.parse(line);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw new Error(`Not a JSON object: ${line}`);
        }
        return parsed;
      });
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await resetLogging();
    },
  };
}
