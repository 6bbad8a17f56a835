/**
 * Downsampling for charts with Largest-Triangle-Three-Buckets (Sveinn
 * Steinarsson, 2013), which keeps the points that shape a line plot: peaks,
 * dips and the ends.
 *
 * @module
 */

import { selectRows } from "./select_rows.ts";
import type { Series } from "./types.ts";

/**
 * Picks `min(threshold, n)` indices of the points `(x[i], y[i])` with LTTB,
 * in increasing order, always including the first and the last.
 *
 * `x` must be sorted ascending and `y` free of NaN. Throws a `RangeError` when
 * `threshold` is not an integer of at least 3 (fewer cannot keep both ends and
 * one point per bucket; callers validate user input first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lttbIndices } from "./lttb.ts";
 * const x = new Float64Array([0, 1, 2, 3, 4, 5, 6]);
 * const y = new Float64Array([0, 0, 9, 0, 0, 0, 0]);
 * assert.deepEqual([...lttbIndices(x, y, 3)], [0, 2, 6]);
 * ```
 */
export function lttbIndices(x: Float64Array, y: Float64Array, threshold: number): Uint32Array {
  checkThreshold(threshold);
  const n = x.length;
  if (n <= threshold) {
    const all = new Uint32Array(n);
    for (let i = 0; i < n; i++) all[i] = i;
    return all;
  }

  const picked = new Uint32Array(threshold);
  // The first and last points are fixed; the others are split into equal buckets.
  const bucketSize = (n - 2) / (threshold - 2);
  let a = 0;
  picked[0] = 0;
  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    // Third vertex: the average of the next bucket (the last point for the last bucket).
    const nextStart = Math.floor((bucket + 1) * bucketSize) + 1;
    const nextEnd = Math.min(n, Math.floor((bucket + 2) * bucketSize) + 1);
    let averageX = 0;
    let averageY = 0;
    for (let i = nextStart; i < nextEnd; i++) {
      averageX += x[i];
      averageY += y[i];
    }
    const nextCount = nextEnd - nextStart;
    averageX /= nextCount;
    averageY /= nextCount;

    const start = Math.floor(bucket * bucketSize) + 1;
    const end = Math.floor((bucket + 1) * bucketSize) + 1;
    const ax = x[a];
    const ay = y[a];
    let best = start;
    let bestArea = -1;
    for (let i = start; i < end; i++) {
      // Twice the triangle's area; the factor does not change the maximum.
      const area = Math.abs((ax - averageX) * (y[i] - ay) - (ax - x[i]) * (averageY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    picked[bucket + 1] = best;
    a = best;
  }
  picked[threshold - 1] = n - 1;
  return picked;
}

/**
 * Downsamples every column of a series to about `points` points for a chart.
 *
 * Each column is run through LTTB on its own non-missing points (so missing
 * values neither become points nor distort the buckets), then the output rows
 * are the sorted union of all columns' chosen rows, carrying every column's
 * value at those rows. Timestamps thus stay shared by all columns: a
 * one-column series gets exactly `min(points, non-missing)` rows, and `k`
 * columns at most `k x points` rows, where a column may show a value (or a
 * missing one) at a row another column chose. A series with at most `points`
 * rows is returned unchanged. Throws a `RangeError` when `points` is not an
 * integer of at least 3.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { downsampleSeries } from "./lttb.ts";
 * const n = 1000;
 * const series = {
 *   timestamps: Float64Array.from({ length: n }, (_, i) => i * 1000),
 *   names: ["v"],
 *   columns: [Float64Array.from({ length: n }, (_, i) => Math.sin(i / 50))],
 * };
 * const small = downsampleSeries(series, 100);
 * assert.equal(small.timestamps.length, 100);
 * assert.equal(small.timestamps[99], 999_000);
 * ```
 */
export function downsampleSeries(series: Series, points: number): Series {
  checkThreshold(points);
  const n = series.timestamps.length;
  if (n <= points) return series;
  const chosen = new Uint8Array(n);
  for (const column of series.columns) {
    const rows = presentRows(column);
    const x = new Float64Array(rows.length);
    const y = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      x[i] = series.timestamps[rows[i]];
      y[i] = column[rows[i]];
    }
    for (const index of lttbIndices(x, y, points)) chosen[rows[index]] = 1;
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += chosen[i];
  const keep = new Uint32Array(count);
  for (let i = 0, at = 0; i < n; i++) if (chosen[i] === 1) keep[at++] = i;
  return selectRows(series, keep);
}

function checkThreshold(threshold: number): void {
  if (!Number.isInteger(threshold) || threshold < 3) {
    throw new RangeError(`LTTB needs an integer threshold of at least 3, got ${threshold}`);
  }
}

/** Row indices of the non-missing values of a column. */
function presentRows(column: Float64Array): Uint32Array {
  let count = 0;
  for (let i = 0; i < column.length; i++) if (column[i] === column[i]) count++;
  const rows = new Uint32Array(count);
  for (let i = 0, at = 0; i < column.length; i++) if (column[i] === column[i]) rows[at++] = i;
  return rows;
}
