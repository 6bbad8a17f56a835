/**
 * Summary statistics of a cleaned series: per-column statistics plus the
 * series' time span, typical interval and gaps.
 *
 * @module
 */

import { AppError } from "../errors.ts";
import { formatTimestamp } from "./timestamps.ts";
import type { ColumnStats, Gap, Series, Summary } from "./types.ts";

/** An interval longer than this many times the median interval is a gap. */
const GAP_FACTOR = 3;
/** How many of the largest gaps a summary lists. */
const LARGEST_GAPS = 10;

/**
 * Summarizes a cleaned series (sorted, unique timestamps; see `clean.ts`).
 *
 * - Per column: count and missing, min, max, mean (Welford's method, so a large
 *   offset does not cost precision), sample standard deviation (n - 1), the
 *   50th/90th/99th percentiles by linear interpolation between closest ranks
 *   (numpy's default, "type 7"), first and last non-missing values in time
 *   order and the change between them. Undefined values are `null`, and so
 *   is a statistic that overflows the double range.
 * - Series: start, end, points, the median interval between consecutive
 *   points, and gaps: intervals longer than 3 x the median, with the 10 largest
 *   (largest first; equal gaps in time order).
 *
 * Throws `invalid_input` for a series without points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeSeries } from "./stats.ts";
 * const summary = summarizeSeries({
 *   timestamps: new Float64Array([0, 60_000, 120_000, 600_000]),
 *   names: ["v"],
 *   columns: [new Float64Array([1, NaN, 3, 5])],
 * });
 * assert.equal(summary.interval_median_s, 60);
 * assert.equal(summary.gaps.count, 1);
 * assert.equal(summary.gaps.largest[0].seconds, 480);
 * assert.equal(summary.columns.v.mean, 3);
 * assert.equal(summary.columns.v.p50, 3);
 * assert.equal(summary.columns.v.change_pct, 400);
 * ```
 */
export function summarizeSeries(series: Series): Summary {
  const timestamps = series.timestamps;
  const points = timestamps.length;
  if (points === 0) throw new AppError("invalid_input", "The series has no points");
  const columns: Record<string, ColumnStats> = {};
  series.names.forEach((name, index) => {
    columns[name] = columnStats(series.columns[index]);
  });
  return {
    start: formatTimestamp(timestamps[0]),
    end: formatTimestamp(timestamps[points - 1]),
    points,
    ...intervals(timestamps),
    columns,
  };
}

/**
 * Statistics of one column; every statistic is `null` when it has no values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { columnStats } from "./stats.ts";
 * const stats = columnStats(new Float64Array([4, NaN, 2]));
 * assert.equal(stats.count, 2);
 * assert.equal(stats.missing, 1);
 * assert.equal(stats.stddev, Math.SQRT2);
 * assert.equal(stats.change, -2);
 * ```
 */
export function columnStats(values: Float64Array): ColumnStats {
  let count = 0;
  let mean = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  let first = NaN;
  let last = NaN;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== value) continue;
    if (count === 0) first = value;
    last = value;
    count++;
    const delta = value - mean;
    mean += delta / count;
    squares += delta * (value - mean);
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const missing = values.length - count;
  if (count === 0) {
    return {
      count,
      missing,
      min: null,
      max: null,
      mean: null,
      stddev: null,
      p50: null,
      p90: null,
      p99: null,
      first: null,
      last: null,
      change: null,
      change_pct: null,
    };
  }
  const present = new Float64Array(count);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === values[i]) present[at++] = values[i];
  }
  const [p50, p90, p99] = percentiles(present, [0.5, 0.9, 0.99]);
  const change = last - first;
  return {
    count,
    missing,
    min,
    max,
    // Rounding can push a mean of equal values a hair outside [min, max].
    mean: Number.isFinite(mean) ? Math.min(max, Math.max(min, mean)) : null,
    stddev: count < 2 ? null : finiteOrNull(Math.sqrt(squares / (count - 1))),
    p50: finiteOrNull(p50),
    p90: finiteOrNull(p90),
    p99: finiteOrNull(p99),
    first,
    last,
    change: finiteOrNull(change),
    change_pct: first === 0 ? null : finiteOrNull(change / Math.abs(first) * 100),
  };
}

/**
 * Values near the double range can overflow (e.g. a change relative to a
 * subnormal first value); JSON cannot carry Infinity, so such a statistic is
 * reported as undefined.
 */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * Percentiles by linear interpolation between closest ranks (numpy's default,
 * Hyndman and Fan's type 7). Reorders `values` in place.
 *
 * Uses selection rather than a full sort: each needed rank is selected in
 * expected linear time, within the part of the array not yet fixed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentiles } from "./stats.ts";
 * assert.deepEqual(percentiles(new Float64Array([4, 1, 3, 2]), [0.5, 0.9]), [2.5, 3.7]);
 * ```
 */
export function percentiles(values: Float64Array, fractions: readonly number[]): number[] {
  const n = values.length;
  const ranks = new Set<number>();
  for (const fraction of fractions) {
    const position = (n - 1) * fraction;
    ranks.add(Math.floor(position));
    ranks.add(Math.min(n - 1, Math.floor(position) + 1));
  }
  let fixed = 0;
  for (const rank of [...ranks].sort((a, b) => a - b)) {
    // Everything before `fixed` is already <= the elements after it.
    selectRank(values.subarray(fixed), rank - fixed);
    fixed = rank + 1;
  }
  return fractions.map((fraction) => {
    const position = (n - 1) * fraction;
    const lower = Math.floor(position);
    const upper = Math.min(n - 1, lower + 1);
    const weight = position - lower;
    // An exact rank needs no interpolation, which also avoids 0 * Infinity.
    if (weight === 0) return values[lower];
    return values[lower] + weight * (values[upper] - values[lower]);
  });
}

/**
 * Reorders `values` so that `values[rank]` is the element a sort would put
 * there, smaller-or-equal ones before it and greater-or-equal ones after
 * (Hoare's quickselect with a median-of-three pivot).
 */
function selectRank(values: Float64Array, rank: number): void {
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot avoids quadratic time on sorted input.
    const a = values[lo];
    const b = values[mid];
    const c = values[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i] = values[j];
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (rank <= j) {
      hi = j;
    } else if (rank >= i) {
      lo = i;
    } else {
      return;
    }
  }
}

/** Median interval and gaps of sorted timestamps. */
function intervals(timestamps: Float64Array): Pick<Summary, "interval_median_s" | "gaps"> {
  const n = timestamps.length;
  if (n < 2) {
    return { interval_median_s: null, gaps: { count: 0, threshold_s: null, largest: [] } };
  }
  const differences = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) differences[i - 1] = timestamps[i] - timestamps[i - 1];
  const [medianMs] = percentiles(differences.slice(), [0.5]);
  const thresholdMs = GAP_FACTOR * medianMs;

  let count = 0;
  // Indices of the largest gaps so far, largest first; at most LARGEST_GAPS.
  const largest: number[] = [];
  for (let i = 0; i < differences.length; i++) {
    const length = differences[i];
    if (!(length > thresholdMs)) continue;
    count++;
    if (largest.length === LARGEST_GAPS && length <= differences[largest[LARGEST_GAPS - 1]]) {
      continue;
    }
    let at = largest.length;
    // Strictly greater moves ahead, so equal gaps stay in time order.
    while (at > 0 && differences[largest[at - 1]] < length) at--;
    largest.splice(at, 0, i);
    if (largest.length > LARGEST_GAPS) largest.pop();
  }
  return {
    interval_median_s: medianMs / 1000,
    gaps: {
      count,
      threshold_s: thresholdMs / 1000,
      largest: largest.map((i): Gap => ({
        from: formatTimestamp(timestamps[i]),
        to: formatTimestamp(timestamps[i + 1]),
        seconds: differences[i] / 1000,
      })),
    },
  };
}
