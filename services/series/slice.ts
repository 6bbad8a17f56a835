/**
 * Time-range selection on a cleaned series.
 *
 * @module
 */

import type { Series } from "./types.ts";

/** An inclusive time range in epoch milliseconds; an absent end is unbounded. */
export interface TimeRange {
  /** Earliest timestamp kept. */
  from?: number;
  /** Latest timestamp kept. */
  to?: number;
}

/**
 * The rows of a cleaned (sorted) series with `from <= timestamp <= to`.
 *
 * Found by binary search; the result's arrays are `subarray` views sharing the
 * input's buffers, so slicing a large series costs no copy. Because of that,
 * use `byteOffset` and `byteLength` (not just `.buffer`) when storing them, and
 * do not mutate them. An empty or inverted range gives an empty series.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sliceSeries } from "./slice.ts";
 * const series = {
 *   timestamps: new Float64Array([0, 1000, 2000, 3000]),
 *   names: ["v"],
 *   columns: [new Float64Array([1, 2, 3, 4])],
 * };
 * const middle = sliceSeries(series, { from: 1000, to: 2500 });
 * assert.deepEqual([...middle.timestamps], [1000, 2000]);
 * assert.deepEqual([...middle.columns[0]], [2, 3]);
 * ```
 */
export function sliceSeries(series: Series, range: TimeRange): Series {
  const timestamps = series.timestamps;
  const start = range.from === undefined ? 0 : firstAtLeast(timestamps, range.from);
  const after = range.to === undefined ? timestamps.length : firstAbove(timestamps, range.to);
  const end = Math.max(start, after);
  return {
    timestamps: timestamps.subarray(start, end),
    names: series.names,
    columns: series.columns.map((column) => column.subarray(start, end)),
  };
}

/** Index of the first element `>= value`, or the length when there is none. */
function firstAtLeast(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element `> value`, or the length when there is none. */
function firstAbove(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
