/**
 * The whole upload pipeline in one pure call: decode, parse, clean, summarize.
 * It touches no I/O so it can run in a Web Worker.
 *
 * @module
 */

import { AppError } from "../errors.ts";
import { analyzeSeries } from "./analytics.ts";
import { cleanSeries } from "./clean.ts";
import type { ParseOptions } from "./dialect.ts";
import { CsvStreamParser, parseCsvSeries } from "./parse_csv.ts";
import { parseJsonSeries, parseNdjsonSeries } from "./parse_json.ts";
import { parseParquetSeries } from "./parse_parquet.ts";
import { summarizeSeries } from "./stats.ts";
import type { ParsedSeries, ProcessedUpload, Series, Summary, UploadFormat } from "./types.ts";

/** Options of {@linkcode processUpload}. */
export interface ProcessOptions {
  /** How the body is encoded. */
  format: UploadFormat;
  /** Most data rows accepted (see the parsers). */
  maxPoints: number;
  /** What the client said about the file (`?delimiter=` and the others). */
  parse?: ParseOptions;
}

/**
 * Turns an upload body into a cleaned series, its row accounting and summary.
 *
 * Text must be UTF-8 (with or without a byte order mark) or UTF-16 with a
 * byte order mark (Excel's "Unicode text"); anything else is `invalid_input`.
 * Parquet is binary. Parser errors (`invalid_input`, `malformed_body`,
 * `payload_too_large`) propagate unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processUpload } from "./process.ts";
 * const body = new TextEncoder().encode(
 *   "t,v\n2020-01-10T00:01:00Z,2\n2020-01-10T00:00:00Z,1\n2020-01-10T00:01:00Z,3\nx,4\n",
 * );
 * const result = await processUpload(body, { format: "csv", maxPoints: 100 });
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
export async function processUpload(
  bytes: Uint8Array,
  options: ProcessOptions,
): Promise<ProcessedUpload> {
  const parseOptions = { maxPoints: options.maxPoints, parse: options.parse };
  let parsed: ParsedSeries;
  if (options.format === "parquet") {
    parsed = await parseParquetSeries(bytes, parseOptions);
  } else {
    const { text, encoding } = decodeText(bytes);
    parsed = options.format === "csv"
      ? parseCsvSeries(text, parseOptions)
      : options.format === "ndjson"
      ? parseNdjsonSeries(text, parseOptions)
      : parseJsonSeries(text, parseOptions);
    if (parsed.dialect !== undefined) parsed.dialect = { encoding, ...parsed.dialect };
  }
  return finishUpload(parsed);
}

/**
 * An upload processed while it arrives: {@linkcode UploadStream.push} each
 * piece in body order, then {@linkcode UploadStream.finish} gives exactly
 * what {@linkcode processUpload} gives for the whole body. A UTF-8 CSV is
 * decoded and parsed piece by piece (CsvStreamParser), so by the time the
 * last byte arrives most rows are parsed: the 1,000,000-row CSV's 300 ms of
 * worker time now mostly overlaps its upload, and POST start to ready went
 * from 794 to about 540 ms (bench/ingest.ts without its /healthz probe,
 * docs/benchmarks.md, issue 15). Anything else (JSON, NDJSON, Parquet, UTF-16, a CSV with quotes,
 * a stream that gave up on an error) is kept and processed whole at the end,
 * which also gives every error its usual wording.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processUpload, UploadStream } from "./process.ts";
 * const body = new TextEncoder().encode("t,v\n1,2\n2,3\n");
 * const stream = new UploadStream({ format: "csv", maxPoints: 10 });
 * stream.push(body.subarray(0, 5));
 * stream.push(body.subarray(5));
 * const streamed = await stream.finish();
 * const whole = await processUpload(body, { format: "csv", maxPoints: 10 });
 * assert.deepEqual(streamed, whole);
 * ```
 */
export class UploadStream {
  readonly #options: ProcessOptions & { expectedBytes?: number };
  readonly #pieces: Uint8Array[] = [];
  #bytes = 0;
  #decoder: TextDecoder | undefined;
  #csv: CsvStreamParser | undefined;
  #encoding = "utf-8";

  /** `expectedBytes` (the body's size, when known) sizes the columns once. */
  constructor(options: ProcessOptions & { expectedBytes?: number }) {
    this.#options = options;
  }

  /** Takes the next piece of the body (kept: the caller must not change it). */
  push(bytes: Uint8Array): void {
    this.#pieces.push(bytes);
    this.#bytes += bytes.byteLength;
    if (this.#pieces.length === 1) this.#start(bytes);
    if (this.#csv === undefined) return;
    try {
      if (!this.#csv.push(this.#decoder!.decode(bytes, { stream: true }))) this.#csv = undefined;
    } catch {
      this.#csv = undefined;
    }
  }

  /** The processed upload, as processUpload would give it for the whole body. */
  async finish(): Promise<ProcessedUpload> {
    if (this.#csv !== undefined) {
      let parsed: ParsedSeries | undefined;
      try {
        if (this.#csv.push(this.#decoder!.decode())) parsed = this.#csv.finish();
      } catch {
        parsed = undefined;
      }
      if (parsed !== undefined) {
        if (parsed.dialect !== undefined) {
          parsed.dialect = { encoding: this.#encoding, ...parsed.dialect };
        }
        return finishUpload(parsed);
      }
    }
    const body = new Uint8Array(this.#bytes);
    let offset = 0;
    for (const piece of this.#pieces.splice(0)) {
      body.set(piece, offset);
      offset += piece.byteLength;
    }
    return await processUpload(body, this.#options);
  }

  // Streams a CSV that decodeText would read as UTF-8 (with or without its mark).
  #start(first: Uint8Array): void {
    if (this.#options.format !== "csv" || first.byteLength < 3) return;
    if ((first[0] === 0xff && first[1] === 0xfe) || (first[0] === 0xfe && first[1] === 0xff)) {
      return;
    }
    if (first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf) this.#encoding = "utf-8-bom";
    this.#decoder = new TextDecoder("utf-8", { fatal: true });
    this.#csv = new CsvStreamParser({
      maxPoints: this.#options.maxPoints,
      parse: this.#options.parse,
      expectedChars: this.#options.expectedBytes,
    });
  }
}

/** Cleans and summarizes a parsed series: the part of processing after parsing. */
function finishUpload(parsed: ParsedSeries): ProcessedUpload {
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
  if (parsed.dialect !== undefined) result.dialect = parsed.dialect;
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

/**
 * Decodes an upload's text by its byte order mark: UTF-16 LE or BE when it
 * has one, else UTF-8 (the decoder drops a UTF-8 mark). Without a mark,
 * UTF-16 cannot be told from binary, so it is not guessed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeText } from "./process.ts";
 * const utf16 = Uint8Array.of(0xff, 0xfe, 0x74, 0x00, 0x2c, 0x00, 0x76, 0x00);
 * assert.deepEqual(decodeText(utf16), { text: "t,v", encoding: "utf-16le" });
 * ```
 */
export function decodeText(bytes: Uint8Array): { text: string; encoding: string } {
  let encoding = "utf-8";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) encoding = "utf-16le";
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) encoding = "utf-16be";
  else if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) encoding = "utf-8-bom";
  try {
    const label = encoding === "utf-8-bom" ? "utf-8" : encoding;
    return { text: new TextDecoder(label, { fatal: true }).decode(bytes), encoding };
  } catch (error) {
    const name = encoding.startsWith("utf-16") ? "UTF-16" : "UTF-8";
    throw new AppError(
      "invalid_input",
      `The body is not valid ${name}; send UTF-8, or UTF-16 with a byte order mark`,
      { cause: error },
    );
  }
}
