/**
 * Resampling: calendar-aligned UTC buckets and one aggregate per bucket.
 *
 * Buckets are half-open, `[start, next start)`, and labelled by their start
 * (pandas' `resample(rule, closed="left", label="left")`). Minutes, hours and
 * days are aligned on the Unix epoch, which is midnight UTC, so `4h` buckets
 * start at 00:00, 04:00, 08:00... Weeks start on Monday 00:00 UTC, months on
 * the 1st at 00:00 UTC. A bucket without any row is omitted (pandas would
 * keep it as a row of NaN): a chart should not draw invented points.
 *
 * @module
 */

import { CompensatedSum } from "./compensated_sum.ts";
import type { Series } from "./types.ts";

/** The accepted bucket widths, in the order the API lists them. */
export const RESAMPLE_EVERY = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1mo"] as const;

/** One of {@linkcode RESAMPLE_EVERY}. */
export type ResampleEvery = (typeof RESAMPLE_EVERY)[number];

/** The accepted aggregates, in the order the API lists them. */
export const RESAMPLE_AGG = [
  "last",
  "first",
  "mean",
  "sum",
  "min",
  "max",
  "count",
  "ohlc",
] as const;

/** One of {@linkcode RESAMPLE_AGG}. */
export type ResampleAgg = (typeof RESAMPLE_AGG)[number];

/** Options of {@linkcode resampleSeries}. */
export interface ResampleOptions {
  /** Bucket width. */
  every: ResampleEvery;
  /** Aggregate per bucket and column (default `last`). */
  agg?: ResampleAgg;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** 1970-01-05, the first Monday after the epoch (a Thursday). */
const FIRST_MONDAY = 4 * DAY;

const FIXED_WIDTH: Partial<Record<ResampleEvery, number>> = {
  "1m": MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "30m": 30 * MINUTE,
  "1h": 60 * MINUTE,
  "4h": 240 * MINUTE,
  "1d": DAY,
};

/**
 * The start of the bucket holding `ms` (epoch milliseconds, UTC).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bucketStart } from "./resample.ts";
 * // Wednesday 2020-01-15 13:45 -> Monday 2020-01-13.
 * const ms = Date.UTC(2020, 0, 15, 13, 45);
 * assert.equal(bucketStart(ms, "1w"), Date.UTC(2020, 0, 13));
 * assert.equal(bucketStart(ms, "1mo"), Date.UTC(2020, 0, 1));
 * assert.equal(bucketStart(ms, "4h"), Date.UTC(2020, 0, 15, 12));
 * ```
 */
export function bucketStart(ms: number, every: ResampleEvery): number {
  const width = FIXED_WIDTH[every];
  if (width !== undefined) return Math.floor(ms / width) * width;
  if (every === "1w") return Math.floor((ms - FIRST_MONDAY) / WEEK) * WEEK + FIRST_MONDAY;
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** The start of the bucket after the one starting at `start`. */
function nextBucketStart(start: number, every: ResampleEvery): number {
  const width = FIXED_WIDTH[every];
  if (width !== undefined) return start + width;
  if (every === "1w") return start + WEEK;
  const date = new Date(start);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/**
 * Aggregates a cleaned series (sorted, unique timestamps) into buckets.
 *
 * Missing values (NaN) are skipped as pandas skips them: `first`/`last` are
 * the first/last present value in the bucket, `mean`/`min`/`max` are over the
 * present values, `count` counts them (0 when none). A bucket where a column
 * has rows but no present value gives a missing value for every aggregate but
 * `count`, including `sum`: pandas' default `sum` would say 0 there
 * (`min_count=0`), which reads as "measured zero"; reportd behaves like
 * `sum(min_count=1)`. `sum` and `mean` use Neumaier's compensated summation.
 *
 * `ohlc` turns each column `c` into `c_open`, `c_high`, `c_low`, `c_close`
 * (first, max, min, last). The result's timestamps are the bucket starts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resampleSeries } from "./resample.ts";
 * const hour = 3_600_000;
 * const series = {
 *   timestamps: new Float64Array([0, 60_000, hour, 3 * hour]),
 *   names: ["v"],
 *   columns: [new Float64Array([1, 3, NaN, 5])],
 * };
 * const hourly = resampleSeries(series, { every: "1h", agg: "sum" });
 * assert.deepEqual([...hourly.timestamps], [0, hour, 3 * hour]);
 * assert.deepEqual([...hourly.columns[0]], [4, NaN, 5]);
 * const ohlc = resampleSeries(series, { every: "1h", agg: "ohlc" });
 * assert.deepEqual(ohlc.names, ["v_open", "v_high", "v_low", "v_close"]);
 * ```
 */
export function resampleSeries(series: Series, options: ResampleOptions): Series {
  const { every } = options;
  const agg = options.agg ?? "last";
  const { starts, labels } = buckets(series.timestamps, every);
  const names: string[] = [];
  const columns: Float64Array[] = [];
  series.names.forEach((name, index) => {
    const values = series.columns[index];
    if (agg === "ohlc") {
      names.push(`${name}_open`, `${name}_high`, `${name}_low`, `${name}_close`);
      columns.push(
        aggregate(values, starts, "first"),
        aggregate(values, starts, "max"),
        aggregate(values, starts, "min"),
        aggregate(values, starts, "last"),
      );
    } else {
      names.push(name);
      columns.push(aggregate(values, starts, agg));
    }
  });
  return { timestamps: labels, names, columns };
}

/**
 * Row index where each non-empty bucket begins (plus the row count as a final
 * fence), and each bucket's start time. One pass: the timestamps are sorted,
 * so a bucket's rows are contiguous and a bucket boundary is computed only
 * when a row crosses the current one (a month costs a `Date`, a row does not).
 */
function buckets(
  timestamps: Float64Array,
  every: ResampleEvery,
): { starts: Uint32Array; labels: Float64Array } {
  const n = timestamps.length;
  const starts = new Uint32Array(n + 1);
  const labels = new Float64Array(n);
  let count = 0;
  let end = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = timestamps[i];
    if (t < end) continue;
    const start = bucketStart(t, every);
    end = nextBucketStart(start, every);
    starts[count] = i;
    labels[count] = start;
    count++;
  }
  starts[count] = n;
  return { starts: starts.slice(0, count + 1), labels: labels.slice(0, count) };
}

function aggregate(
  values: Float64Array,
  starts: Uint32Array,
  agg: Exclude<ResampleAgg, "ohlc">,
): Float64Array {
  const out = new Float64Array(starts.length - 1);
  for (let b = 0; b < out.length; b++) {
    out[b] = aggregateRange(values, starts[b], starts[b + 1], agg);
  }
  return out;
}

function aggregateRange(
  values: Float64Array,
  from: number,
  to: number,
  agg: Exclude<ResampleAgg, "ohlc">,
): number {
  switch (agg) {
    case "first":
      for (let i = from; i < to; i++) if (values[i] === values[i]) return values[i];
      return NaN;
    case "last":
      for (let i = to - 1; i >= from; i--) if (values[i] === values[i]) return values[i];
      return NaN;
    case "count": {
      let count = 0;
      for (let i = from; i < to; i++) if (values[i] === values[i]) count++;
      return count;
    }
    case "min":
    case "max": {
      let best = NaN;
      for (let i = from; i < to; i++) {
        const value = values[i];
        if (value !== value) continue;
        if (best !== best || (agg === "min" ? value < best : value > best)) best = value;
      }
      return best;
    }
    case "sum":
    case "mean": {
      let count = 0;
      const sum = new CompensatedSum();
      for (let i = from; i < to; i++) {
        const value = values[i];
        if (value !== value) continue;
        count++;
        sum.add(value);
      }
      if (count === 0) return NaN;
      return agg === "sum" ? sum.value : sum.value / count;
    }
  }
}
