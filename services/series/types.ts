/**
 * The shapes that flow through the pure series pipeline:
 * parse (CSV or JSON) -> clean (sort, merge duplicates) -> summarize.
 *
 * Columns are `Float64Array`s so that a five-million-point series is a few
 * contiguous buffers (cheap to store as BLOBs and to transfer to a worker
 * without copying) rather than millions of objects.
 *
 * @module
 */

import type { SourceDialect } from "./dialect.ts";

/**
 * A column-oriented time series.
 *
 * `timestamps` are Unix epoch milliseconds. `columns[i]` holds the values of
 * the column named `names[i]`, one per timestamp; `NaN` marks a missing value.
 */
export interface Series {
  /** Unix epoch milliseconds, one per row. */
  timestamps: Float64Array;
  /** Column names, in input order. */
  names: string[];
  /** One array per name, each as long as `timestamps`; `NaN` is missing. */
  columns: Float64Array[];
}

/** A row that was dropped while parsing, with the reason. */
export interface RejectedRow {
  /** 1-based line number in the upload (the CSV header is line 1). */
  line: number;
  /** Why the row was rejected. */
  reason: string;
}

/** What a parser returns: the accepted rows in input order plus the bookkeeping. */
export interface ParsedSeries {
  /** Accepted rows, not yet sorted or de-duplicated. */
  series: Series;
  /** Data rows seen (accepted + rejected). */
  received: number;
  /** Rows dropped because of an unparseable timestamp or value. */
  rejected: number;
  /** Up to 10 examples of rejected rows. */
  rejectedExamples: RejectedRow[];
  /** Report name found in the body (JSON uploads only). */
  name?: string;
  /** How the file was read: given and detected options. */
  dialect?: SourceDialect;
}

/** Row accounting shown on a report (`rows` in the API). */
export interface RowCounts {
  /** Data rows seen. */
  received: number;
  /** Rows kept in the cleaned series. */
  accepted: number;
  /** Rows dropped as unparseable. */
  rejected: number;
  /** Rows replaced by a later row with the same timestamp. */
  duplicates: number;
  /** Up to 10 examples of rejected rows. */
  rejected_examples: RejectedRow[];
}

/** Statistics of one column; `null` where a value is undefined (no data). */
export interface ColumnStats {
  /** Non-missing values. */
  count: number;
  /** Missing values. */
  missing: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sample standard deviation (n - 1); null below two values. */
  stddev: number | null;
  /** Percentiles by linear interpolation between closest ranks. */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** First and last non-missing values in time order. */
  first: number | null;
  last: number | null;
  /** `last - first`. */
  change: number | null;
  /** `change / |first| * 100`; null when `first` is 0. */
  change_pct: number | null;
}

/** An interval between two consecutive points longer than the gap threshold. */
export interface Gap {
  /** ISO-8601 UTC timestamp of the point before the gap. */
  from: string;
  /** ISO-8601 UTC timestamp of the point after the gap. */
  to: string;
  /** Length of the interval in seconds. */
  seconds: number;
}

/** Series-level summary (`summary` in the API). */
export interface Summary {
  /** ISO-8601 UTC timestamp of the first point. */
  start: string;
  /** ISO-8601 UTC timestamp of the last point. */
  end: string;
  /** Points in the cleaned series. */
  points: number;
  /** Median interval between consecutive points in seconds; null below two points. */
  interval_median_s: number | null;
  /** Intervals longer than three times the median. */
  gaps: {
    /** How many intervals exceed the threshold. */
    count: number;
    /** The threshold in seconds (3 x median); null below two points. */
    threshold_s: number | null;
    /** The 10 largest gaps, largest first. */
    largest: Gap[];
  };
  /** Statistics per column, keyed by column name, in column order. */
  columns: Record<string, ColumnStats>;
}

/** The result of processing one upload: what gets stored and served. */
export interface ProcessedUpload {
  /** The cleaned series: sorted by time, unique timestamps. */
  series: Series;
  /** Row accounting. */
  rows: RowCounts;
  /** Summary statistics. */
  summary: Summary;
  /** Report name found in the body (JSON uploads only). */
  name?: string;
  /** How the file was read (`source.dialect`). */
  dialect?: SourceDialect;
}

/** Upload formats reportd accepts. */
export type UploadFormat = "csv" | "json" | "ndjson" | "parquet";
