/**
 * The whole upload pipeline in one pure call: decode, parse, clean, summarize.
 * It touches no I/O so it can run in a Web Worker.
 *
 * @module
 */

import { AppError } from "../errors.ts";
import { analyzeSeries } from "./analytics.ts";
import { cleanSeries } from "./clean.ts";
import { parseCsvSeries } from "./parse_csv.ts";
import { parseJsonSeries } from "./parse_json.ts";
import { summarizeSeries } from "./stats.ts";
import type { ParsedSeries, ProcessedUpload, Series, Summary, UploadFormat } from "./types.ts";

/** Options of {@linkcode processUpload}. */
export interface ProcessOptions {
  /** How the body is encoded. */
  format: UploadFormat;
  /** Most data rows accepted (see the parsers). */
  maxPoints: number;
}

/**
 * Turns an upload body into a cleaned series, its row accounting and summary.
 *
 * The body must be UTF-8 (a byte order mark is dropped); anything else is
 * `invalid_input`. Parser errors (`invalid_input`, `malformed_body`,
 * `payload_too_large`) propagate unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processUpload } from "./process.ts";
 * const body = new TextEncoder().encode(
 *   "t,v\n2020-01-10T00:01:00Z,2\n2020-01-10T00:00:00Z,1\n2020-01-10T00:01:00Z,3\nx,4\n",
 * );
 * const result = processUpload(body, { format: "csv", maxPoints: 100 });
 * assert.deepEqual(result.rows, {
 *   received: 4,
 *   accepted: 2,
 *   rejected: 1,
 *   duplicates: 1,
 *   rejected_examples: [{
 *     line: 5,
 *     reason: 'Column "t": Not an ISO-8601 date or date-time, or a Unix epoch number (got "x")',
 *   }],
 * });
 * assert.equal(result.summary.columns.v.last, 3);
 * ```
 */
export function processUpload(bytes: Uint8Array, options: ProcessOptions): ProcessedUpload {
  const text = decodeUtf8(bytes);
  const parsed: ParsedSeries = options.format === "csv"
    ? parseCsvSeries(text, { maxPoints: options.maxPoints })
    : parseJsonSeries(text, { maxPoints: options.maxPoints });
  const { series, duplicates } = cleanSeries(parsed.series);
  const result: ProcessedUpload = {
    series,
    rows: {
      received: parsed.received,
      accepted: series.timestamps.length,
      rejected: parsed.rejected,
      duplicates,
      rejected_examples: parsed.rejectedExamples,
    },
    summary: withAnalytics(summarizeSeries(series), series),
  };
  if (parsed.name !== undefined) result.name = parsed.name;
  return result;
}

/**
 * Adds the analytics (analytics.ts) to a summary: each column's next to its
 * statistics, the series-level ones beside the rest.
 */
function withAnalytics(summary: Summary, series: Series): Summary {
  const intervalS = summary.interval_median_s;
  const medians: Record<string, number | null> = {};
  for (const [name, stats] of Object.entries(summary.columns)) medians[name] = stats.p50;
  const analytics = analyzeSeries(series, {
    medianIntervalMs: intervalS === null ? null : intervalS * 1000,
    medians,
  });
  for (const [name, columnAnalytics] of Object.entries(analytics.columns)) {
    Object.assign(summary.columns[name], columnAnalytics);
  }
  summary.periods_per_year = analytics.periods_per_year;
  summary.correlation = analytics.correlation;
  summary.null_reasons = analytics.null_reasons;
  return summary;
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new AppError("invalid_input", "The body is not valid UTF-8", { cause: error });
  }
}
