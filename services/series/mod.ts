/**
 * The pure series pipeline: parse CSV, JSON, NDJSON or Parquet uploads, clean,
 * summarize, slice, downsample and write CSV; resample, transform and analyze.
 * No I/O, so it can run in a Web Worker.
 *
 * @example Process an upload and download a chart-sized CSV
 * ```ts
 * import assert from "node:assert/strict";
 * import { downsampleSeries, processUpload, seriesToCsv } from "./mod.ts";
 * const lines = ["timestamp,v"];
 * for (let i = 0; i < 50; i++) lines.push(`${1_600_000_000 + i * 60},${i % 7}`);
 * const upload = await processUpload(new TextEncoder().encode(lines.join("\n")), {
 *   format: "csv",
 *   maxPoints: 1000,
 * });
 * assert.equal(upload.summary.interval_median_s, 60);
 * const chart = downsampleSeries(upload.series, 10);
 * assert.equal(seriesToCsv(chart).trimEnd().split("\n").length, 11);
 * ```
 *
 * @module
 */

export type * from "./types.ts";
export {
  type AnalyzeOptions,
  analyzeSeries,
  MAX_CORRELATION_COLUMNS,
  periodsPerYear,
} from "./analytics.ts";
export { type CleanedSeries, cleanSeries } from "./clean.ts";
export { CompensatedSum } from "./compensated_sum.ts";
export { type CsvChunkOptions, quoteCsvField, seriesToCsv, seriesToCsvChunks } from "./csv_out.ts";
export { downsampleSeries, lttbIndices } from "./lttb.ts";
export {
  INVALID_NUMBER,
  type NumberCellResult,
  numberInRange,
  parseNumberCell,
} from "./numbers.ts";
export type { TextRange } from "./numbers.ts";
export { MAX_REJECTED_EXAMPLES } from "./parse_common.ts";
export { type CsvParseOptions, parseCsvSeries } from "./parse_csv.ts";
export {
  type JsonParseOptions,
  type NdjsonParseOptions,
  parseJsonSeries,
  parseNdjsonSeries,
} from "./parse_json.ts";
export { type ParquetParseOptions, parseParquetSeries } from "./parse_parquet.ts";
export {
  MISSING_TOKENS,
  type ParseOptions,
  type SourceDialect,
  TIME_COLUMN_NAMES,
  validateParseOptions,
} from "./dialect.ts";
export { type ProcessOptions, processUpload } from "./process.ts";
export {
  bucketStart,
  RESAMPLE_AGG,
  RESAMPLE_EVERY,
  type ResampleAgg,
  type ResampleEvery,
  type ResampleOptions,
  resampleSeries,
} from "./resample.ts";
export { sliceSeries, type TimeRange } from "./slice.ts";
export { columnStats, percentiles, summarizeSeries } from "./stats.ts";
export {
  epochToMs,
  explainTimestamp,
  formatTimestamp,
  MAX_TIMESTAMP_MS,
  MIN_TIMESTAMP_MS,
  parseTimestamp,
  timestampInRange,
  type TimestampResult,
} from "./timestamps.ts";
export {
  applyTransform,
  parseTransform,
  ROLLING_TRANSFORMS,
  ROLLING_WINDOW_RANGE,
  SIMPLE_TRANSFORMS,
  type Transform,
  TRANSFORM_FORMS,
  transformColumn,
  type TransformResult,
} from "./transforms.ts";
export {
  type ColumnarUpload,
  ColumnarUploadSchema,
  ReportNameSchema,
  type RowUpload,
  RowUploadSchema,
  SeriesUploadSchema,
} from "./upload_schema.ts";
