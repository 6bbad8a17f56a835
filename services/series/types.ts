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
  /**
   * Statistics per column, keyed by column name, in column order. The
   * analytics fields are absent on reports processed before they existed.
   */
  columns: Record<string, ColumnStats & Partial<ColumnAnalytics>>;
  /** Periods per year used to annualize (analytics; absent on older reports). */
  periods_per_year?: number | null;
  /** Pearson correlation of the columns (analytics; absent on older reports). */
  correlation?: Correlation | null;
  /** Why a series-level statistic is null (analytics; absent on older reports). */
  null_reasons?: Record<string, string>;
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

/** The largest fall from a running peak (`max_drawdown` in the API). */
export interface MaxDrawdown {
  /** `trough / peak - 1`: a fraction in [-1, 0]; 0 when the values never fall. */
  value: number;
  /** ISO-8601 UTC timestamp of the peak before the worst fall; null when there is none. */
  peak: string | null;
  /** ISO-8601 UTC timestamp of the trough; null when there is none. */
  trough: string | null;
  /** First time the value got back to the peak after the trough; null if never. */
  recovery: string | null;
}

/** Least-squares line through a column (`trend` in the API). */
export interface Trend {
  /** Slope in value units per day. */
  slope_per_day: number;
  /** Coefficient of determination in [0, 1]; null when the values are constant. */
  r2: number | null;
}

/** Pearson correlation of the columns on their common timestamps. */
export interface Correlation {
  /** Column names, the order of the matrix' rows and columns. */
  columns: string[];
  /** `matrix[i][j]`; null where fewer than 3 common points or a constant column. */
  matrix: (number | null)[][];
}

/**
 * Per-column analytics beside {@linkcode ColumnStats} (see `analytics.ts`).
 * A statistic that means nothing for a column is null, and `null_reasons`
 * says why, keyed by the statistic's name.
 */
export interface ColumnAnalytics {
  /** `last / first - 1`. */
  return_total: number | null;
  /** Compound annual growth rate; only when the span is at least 30 days. */
  cagr: number | null;
  /** Sample stddev of log returns x sqrt(periods per year). */
  volatility_annualized: number | null;
  /** The worst fall from a running peak. */
  max_drawdown: MaxDrawdown | null;
  /** Mean / sample stddev of simple returns x sqrt(periods per year); risk-free rate 0. */
  sharpe_like: number | null;
  /** Least-squares slope per day and R squared. */
  trend: Trend | null;
  /** Points with |robust z| > 3.5 (median and median absolute deviation). */
  outliers: number | null;
  /** Why a statistic above is null, keyed by its name. */
  null_reasons: Record<string, string>;
}

/** Series-level analytics beside {@linkcode Summary} (see `analytics.ts`). */
export interface SeriesAnalytics {
  /** What returns are annualized with, inferred from the median interval. */
  periods_per_year: number | null;
  /** Per-column analytics, in column order. */
  columns: Record<string, ColumnAnalytics>;
  /** Pearson matrix of the columns; null when there are too many columns. */
  correlation: Correlation | null;
  /** Why a series-level statistic is null, keyed by its name. */
  null_reasons: Record<string, string>;
}
