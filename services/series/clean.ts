/**
 * Cleaning: order a parsed series by time and merge rows with equal timestamps.
 *
 * @module
 */

import { selectRows } from "./select_rows.ts";
import type { Series } from "./types.ts";

/** The outcome of {@linkcode cleanSeries}. */
export interface CleanedSeries {
  /** Sorted by timestamp, each timestamp once. */
  series: Series;
  /** Rows dropped because a later row (in input order) had the same timestamp. */
  duplicates: number;
}

/** Runs shorter than this are insertion-sorted before merging. */
const RUN = 32;

/**
 * Sorts a series by timestamp (stably) and keeps, for each timestamp, the row
 * that came last in the input: a re-sent or corrected reading replaces the
 * earlier one.
 *
 * An already strictly increasing series (the common case) is returned as is,
 * without copying. Otherwise rows are ordered through an index permutation so
 * that no per-row objects are created.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cleanSeries } from "./clean.ts";
 * const { series, duplicates } = cleanSeries({
 *   timestamps: new Float64Array([2000, 1000, 2000]),
 *   names: ["v"],
 *   columns: [new Float64Array([1, 2, 3])],
 * });
 * assert.deepEqual([...series.timestamps], [1000, 2000]);
 * assert.deepEqual([...series.columns[0]], [2, 3]);
 * assert.equal(duplicates, 1);
 * ```
 */
export function cleanSeries(series: Series): CleanedSeries {
  const timestamps = series.timestamps;
  const n = timestamps.length;
  let sorted = true;
  let unique = true;
  for (let i = 1; i < n; i++) {
    const previous = timestamps[i - 1];
    const current = timestamps[i];
    if (current < previous) {
      sorted = false;
      break;
    }
    if (current === previous) unique = false;
  }
  if (sorted && unique) return { series, duplicates: 0 };

  const order = sorted ? identity(n) : sortedIndices(timestamps);
  const kept = lastOfEachTimestamp(order, timestamps);
  return { series: selectRows(series, kept), duplicates: n - kept.length };
}

function identity(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/**
 * Keeps the last index of each run of equal timestamps in a stably sorted
 * order, i.e. the row that came last in the input.
 */
function lastOfEachTimestamp(order: Uint32Array, timestamps: Float64Array): Uint32Array {
  const n = order.length;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (i === n - 1 || timestamps[order[i]] !== timestamps[order[i + 1]]) {
      order[kept++] = order[i];
    }
  }
  return order.subarray(0, kept);
}

/**
 * A stable bottom-up merge sort of row indices by timestamp.
 *
 * Hand-written because typed-array `sort` with a comparator is slow; merging
 * skips pairs of runs that are already in order, so nearly sorted input (e.g.
 * two concatenated exports) costs little more than a copy.
 */
function sortedIndices(keys: Float64Array): Uint32Array {
  return new IndexSorter(keys).sort();
}

class IndexSorter {
  private readonly keys: Float64Array;
  private readonly n: number;
  private from: Uint32Array;
  private to: Uint32Array;

  constructor(keys: Float64Array) {
    this.keys = keys;
    this.n = keys.length;
    this.from = identity(this.n);
    this.to = new Uint32Array(this.n);
  }

  sort(): Uint32Array {
    const n = this.n;
    for (let lo = 0; lo < n; lo += RUN) this.insertionSort(lo, Math.min(lo + RUN, n));
    for (let width = RUN; width < n; width *= 2) {
      for (let lo = 0; lo < n; lo += 2 * width) this.mergePair(lo, width);
      const swap = this.from;
      this.from = this.to;
      this.to = swap;
    }
    return this.from;
  }

  private insertionSort(lo: number, hi: number): void {
    const order = this.from;
    const keys = this.keys;
    for (let i = lo + 1; i < hi; i++) {
      const index = order[i];
      const key = keys[index];
      let j = i - 1;
      while (j >= lo && keys[order[j]] > key) {
        order[j + 1] = order[j];
        j--;
      }
      order[j + 1] = index;
    }
  }

  /** Merges the sorted runs `[lo, lo + width)` and `[lo + width, lo + 2 * width)` into `to`. */
  private mergePair(lo: number, width: number): void {
    const { from, to, keys } = this;
    const mid = Math.min(lo + width, this.n);
    const hi = Math.min(lo + 2 * width, this.n);
    if (mid >= hi || keys[from[mid - 1]] <= keys[from[mid]]) {
      to.set(from.subarray(lo, hi), lo);
      return;
    }
    let left = lo;
    let right = mid;
    let out = lo;
    while (left < mid && right < hi) {
      // `<=` takes the left run first on ties, which keeps the sort stable.
      to[out++] = keys[from[left]] <= keys[from[right]] ? from[left++] : from[right++];
    }
    if (left < mid) to.set(from.subarray(left, mid), out);
    else if (right < hi) to.set(from.subarray(right, hi), out);
  }
}
