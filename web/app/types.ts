/**
 * The API's wire types, as far as the page reads them.
 *
 * They are written out here instead of imported from routes/schemas.ts so the
 * browser code is type-checked on its own, with the DOM library and without
 * the server's modules. They cannot drift from the API all the same:
 * tests/unit/web_types_test.ts fails to type-check when what the API's zod
 * schemas describe is no longer assignable to these types.
 *
 * @module
 */

/** A report's lifecycle state. */
export type ReportStatus = "queued" | "processing" | "ready" | "failed";

/** One field that failed validation. */
export interface FieldError {
  /** A dotted path into the input, like `query.name`. */
  path: string;
  /** Why, for a person to read. */
  message: string;
}

/** An RFC 9457 problem document. */
export interface Problem {
  /** A URI naming the problem type. */
  type: string;
  /** A short summary of the type. */
  title: string;
  /** The HTTP status (0 for a failure that never reached the server). */
  status: number;
  /** What went wrong this time. */
  detail?: string;
  /** Field-level failures. */
  errors?: FieldError[];
}

/** The statistics of one column. */
export interface ColumnStats {
  count: number;
  missing: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  stddev: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  first: number | null;
  last: number | null;
  change: number | null;
  change_pct: number | null;
  /** `last / first - 1` (analytics fields: absent on reports made before them). */
  return_total?: number | null;
  /** Compound annual growth rate; spans of 30 days or more. */
  cagr?: number | null;
  /** Sample stddev of log returns, annualized. */
  volatility_annualized?: number | null;
  /** The worst fall from a running peak. */
  max_drawdown?: {
    value: number;
    peak: string | null;
    trough: string | null;
    recovery: string | null;
  } | null;
  /** Mean over stddev of returns, annualized, risk-free rate 0. */
  sharpe_like?: number | null;
  /** Least-squares slope per day and R squared. */
  trend?: { slope_per_day: number; r2: number | null } | null;
  /** Points with |robust z| above 3.5. */
  outliers?: number | null;
  /** Why a statistic above is null, by its name. */
  null_reasons?: Record<string, string>;
}

/** A ready report's summary. */
export interface Summary {
  /** First timestamp (ISO-8601). */
  start: string;
  /** Last timestamp (ISO-8601). */
  end: string;
  /** Points in the cleaned series. */
  points: number;
  /** Median spacing of points, seconds. */
  interval_median_s: number | null;
  /** Intervals longer than the threshold. */
  gaps: {
    count: number;
    threshold_s: number | null;
    largest: { from: string; to: string; seconds: number }[];
  };
  /** Statistics by column name. */
  columns: Record<string, ColumnStats>;
  /** Periods per year that returns are annualized with (absent on older reports). */
  periods_per_year?: number | null;
  /** Pearson correlation of the columns on common times (absent on older reports). */
  correlation?: { columns: string[]; matrix: (number | null)[][] } | null;
  /** Why a series-level statistic is null, by its name. */
  null_reasons?: Record<string, string>;
}

/** What happened to the rows of the input. */
export interface RowCounts {
  received: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  rejected_examples: { line: number; reason: string }[];
}

/** A report resource (`GET /v1/reports/{id}`). */
export interface Report {
  id: string;
  name: string;
  status: ReportStatus;
  created_at: string;
  /** Where the series came from; kinds beyond `upload` are read loosely. */
  source: { kind: string };
  rows: RowCounts | null;
  summary: Summary | null;
  /** Why processing failed (status `failed` only). */
  error: Problem | null;
  links: { self: string; series: string };
}

/** One page of `GET /v1/reports`. */
export interface ReportList {
  items: Report[];
  next_cursor: string | null;
}

/** uPlot's data layout: `[timestamps, column1, ...]`. */
export type UplotData = [number[], ...(number | null)[][]];

/**
 * True while a report can still change, so the page keeps polling it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPending } from "./types.ts";
 * assert.equal(isPending("processing"), true);
 * assert.equal(isPending("failed"), false);
 * ```
 */
export function isPending(status: ReportStatus): boolean {
  return status === "queued" || status === "processing";
}
