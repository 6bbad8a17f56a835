/**
 * CSV download of a series, the inverse of `parse_csv.ts`: what it writes
 * parses back to the same series.
 *
 * @module
 */

import { formatTimestamp } from "./timestamps.ts";
import type { Series } from "./types.ts";

/** Options of {@linkcode seriesToCsvChunks}. */
export interface CsvChunkOptions {
  /** Rows per yielded chunk (the header comes with the first); default 10,000. */
  rowsPerChunk?: number;
}

const DEFAULT_ROWS_PER_CHUNK = 10_000;

/**
 * Writes a series as CSV text: a `timestamp,<names>` header, ISO-8601 UTC
 * timestamps with milliseconds, empty cells for missing values, numbers in
 * their shortest round-trip form, `\n` line endings and a final
 * line break. Names are quoted per RFC 4180 when they need it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seriesToCsv } from "./csv_out.ts";
 * const csv = seriesToCsv({
 *   timestamps: new Float64Array([0, 60_000]),
 *   names: ["temp", "a,b"],
 *   columns: [new Float64Array([1.5, NaN]), new Float64Array([0.1, 2e21])],
 * });
 * assert.equal(
 *   csv,
 *   'timestamp,temp,"a,b"\n1970-01-01T00:00:00.000Z,1.5,0.1\n1970-01-01T00:01:00.000Z,,2e+21\n',
 * );
 * ```
 */
export function seriesToCsv(series: Series): string {
  let csv = "";
  for (const chunk of seriesToCsvChunks(series, { rowsPerChunk: Infinity })) csv += chunk;
  return csv;
}

/**
 * Writes the same text as {@linkcode seriesToCsv} in chunks of rows, so a
 * multi-million-row download can stream without building one huge string
 * (e.g. `new Response(ReadableStream.from(chunks))` after encoding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seriesToCsv, seriesToCsvChunks } from "./csv_out.ts";
 * const series = {
 *   timestamps: new Float64Array([0, 1000, 2000]),
 *   names: ["v"],
 *   columns: [new Float64Array([1, 2, 3])],
 * };
 * const chunks = [...seriesToCsvChunks(series, { rowsPerChunk: 2 })];
 * assert.equal(chunks.length, 2);
 * assert.equal(chunks.join(""), seriesToCsv(series));
 * ```
 */
export function* seriesToCsvChunks(
  series: Series,
  options: CsvChunkOptions = {},
): Generator<string, void, undefined> {
  const rowsPerChunk = Math.max(1, options.rowsPerChunk ?? DEFAULT_ROWS_PER_CHUNK);
  const { timestamps, columns } = series;
  const columnCount = columns.length;
  let chunk = "timestamp";
  for (const name of series.names) chunk += "," + quoteCsvField(name);
  chunk += "\n";
  let rowsInChunk = 0;
  for (let row = 0; row < timestamps.length; row++) {
    chunk += formatTimestamp(timestamps[row]);
    for (let c = 0; c < columnCount; c++) chunk += "," + formatValue(columns[c][row]);
    chunk += "\n";
    if (++rowsInChunk >= rowsPerChunk) {
      yield chunk;
      chunk = "";
      rowsInChunk = 0;
    }
  }
  if (chunk !== "") yield chunk;
}

/**
 * Quotes a field per RFC 4180 when it contains a comma, a quote or a line
 * break, or has surrounding whitespace (which a reader would otherwise trim).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteCsvField } from "./csv_out.ts";
 * assert.equal(quoteCsvField("plain"), "plain");
 * assert.equal(quoteCsvField('say "hi"'), '"say ""hi"""');
 * ```
 */
export function quoteCsvField(field: string): string {
  if (!/[",\r\n]|^\s|\s$/.test(field)) return field;
  return '"' + field.replaceAll('"', '""') + '"';
}

/** Shortest round-trip text of a value; empty for missing, and `-0` kept. */
function formatValue(value: number): string {
  if (value !== value) return "";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  return String(value);
}
