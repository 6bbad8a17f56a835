/**
 * Transforms of a series, column by column: differences, returns, running
 * sums and drawdowns, z-scores, rolling windows and an exponential moving
 * average. They follow pandas' defaults (the oracle tests compare them with
 * pandas 1.5 to 1e-9 relative), with three deliberate differences, each
 * because JSON has no Infinity and a chart should not plot a meaningless
 * number: a division by zero gives a missing value, not `inf`; `log_return`
 * of a non-positive ratio is missing (pandas: `-inf` or NaN); `drawdown`
 * is missing where it has no meaning (see {@linkcode applyTransform}).
 *
 * Every transform keeps the timestamps and the column names, and is O(n):
 * rolling means and standard deviations use compensated running sums
 * re-seeded every window, minima and maxima monotonic deques.
 *
 * @module
 */

import { CompensatedSum } from "./compensated_sum.ts";
import type { Series } from "./types.ts";

/** Smallest and largest rolling window, in points. */
export const ROLLING_WINDOW_RANGE = { min: 2, max: 10_000 } as const;

/** Transforms without a parameter. */
export const SIMPLE_TRANSFORMS = [
  "diff",
  "pct_change",
  "log_return",
  "cumsum",
  "drawdown",
  "zscore",
] as const;

/** Rolling-window transforms, written `<name>:N`. */
export const ROLLING_TRANSFORMS = [
  "rolling_mean",
  "rolling_std",
  "rolling_min",
  "rolling_max",
] as const;

/** A parsed `transform=` value. */
export type Transform =
  | { kind: (typeof SIMPLE_TRANSFORMS)[number] }
  | { kind: (typeof ROLLING_TRANSFORMS)[number]; window: number }
  | { kind: "ewm_mean"; alpha: number };

/** What {@linkcode parseTransform} returns. */
export type TransformResult = { ok: true; transform: Transform } | { ok: false; reason: string };

/** The accepted forms, as an error message and the OpenAPI document list them. */
export const TRANSFORM_FORMS = `one of ${SIMPLE_TRANSFORMS.join(", ")}, ` +
  `${ROLLING_TRANSFORMS.map((name) => `${name}:N`).join(", ")} ` +
  `(N an integer from ${ROLLING_WINDOW_RANGE.min} to ${ROLLING_WINDOW_RANGE.max}), ` +
  "or ewm_mean:ALPHA (0 < ALPHA <= 1)";

/**
 * Parses a `transform=` value such as `rolling_mean:20` or `ewm_mean:0.1`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTransform } from "./transforms.ts";
 * assert.deepEqual(parseTransform("rolling_max:5"), {
 *   ok: true,
 *   transform: { kind: "rolling_max", window: 5 },
 * });
 * assert.equal(parseTransform("rolling_max:1").ok, false);
 * ```
 */
export function parseTransform(text: string): TransformResult {
  const [name, parameter, ...rest] = text.split(":");
  const bad = (why: string): TransformResult => ({
    ok: false,
    reason: `${why}; expected ${TRANSFORM_FORMS}`,
  });
  if (rest.length > 0) return bad(`"${text}" has more than one ':'`);
  const simple = SIMPLE_TRANSFORMS.find((kind) => kind === name);
  if (simple !== undefined) {
    if (parameter !== undefined) return bad(`${simple} takes no parameter`);
    return { ok: true, transform: { kind: simple } };
  }
  const rolling = ROLLING_TRANSFORMS.find((kind) => kind === name);
  if (rolling !== undefined) {
    const window = /^\d{1,5}$/.test(parameter ?? "") ? Number(parameter) : NaN;
    if (!(window >= ROLLING_WINDOW_RANGE.min && window <= ROLLING_WINDOW_RANGE.max)) {
      return bad(`${rolling} needs a window N from 2 to 10000 (got "${parameter ?? ""}")`);
    }
    return { ok: true, transform: { kind: rolling, window } };
  }
  if (name === "ewm_mean") {
    const alpha = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(parameter ?? "") ? Number(parameter) : NaN;
    if (!(alpha > 0 && alpha <= 1)) {
      return bad(`ewm_mean needs ALPHA with 0 < ALPHA <= 1 (got "${parameter ?? ""}")`);
    }
    return { ok: true, transform: { kind: "ewm_mean", alpha } };
  }
  return bad(`"${name}" is not a transform`);
}

/**
 * Applies `transform` to every column (timestamps and names unchanged).
 *
 * Missing values (NaN), case by case, as pandas treats them:
 * - `diff`, `pct_change`, `log_return`: positional, between a row and the row
 *   before it; missing when either is missing (pandas' `diff()`,
 *   `pct_change(fill_method=None)`), and the first row is missing. A zero
 *   previous value gives a missing value instead of pandas' `inf`, and so
 *   does `log_return` of a non-positive ratio.
 * - `cumsum`: skips missing values (a missing row stays missing, the sum
 *   carries on), like `cumsum(skipna=True)`.
 * - `drawdown`: `value / running max - 1`, the running max skipping missing
 *   values (`cummax()`). It is a fraction in [-1, 0] only for non-negative
 *   values under a positive peak, so it is missing while the running max is
 *   not positive and where the value is negative.
 * - `zscore`: `(value - mean) / stddev` with the mean and sample stddev
 *   (n - 1) of the present values (`(s - s.mean()) / s.std()`); every row is
 *   missing when there are fewer than two values or they are all equal.
 * - `rolling_*:N`: the window is the N rows ending at a row; the result is
 *   missing unless all N are present (`rolling(N)` with `min_periods=N`), so
 *   the first N - 1 rows are missing. `rolling_std` is the sample stddev.
 * - `ewm_mean:ALPHA`: `ewm(alpha=ALPHA, adjust=True, ignore_na=False).mean()`:
 *   weights decay with position, missing values add no weight, and a missing
 *   row repeats the average so far (missing before the first value).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyTransform } from "./transforms.ts";
 * const series = {
 *   timestamps: new Float64Array([0, 1, 2, 3]),
 *   names: ["v"],
 *   columns: [new Float64Array([2, 4, 1, 4])],
 * };
 * const mean = applyTransform(series, { kind: "rolling_mean", window: 2 });
 * assert.deepEqual([...mean.columns[0]], [NaN, 3, 2.5, 2.5]);
 * const drawdown = applyTransform(series, { kind: "drawdown" });
 * assert.deepEqual([...drawdown.columns[0]], [0, 0, -0.75, 0]);
 * ```
 */
export function applyTransform(series: Series, transform: Transform): Series {
  return {
    timestamps: series.timestamps,
    names: series.names,
    columns: series.columns.map((column) => transformColumn(column, transform)),
  };
}

/** Applies `transform` to one column; see {@linkcode applyTransform}. */
export function transformColumn(values: Float64Array, transform: Transform): Float64Array {
  switch (transform.kind) {
    case "diff":
      return pairwise(values, (previous, value) => value - previous);
    case "pct_change":
      return pairwise(values, (previous, value) => value / previous - 1);
    case "log_return":
      return pairwise(values, (previous, value) => Math.log(value / previous));
    case "cumsum":
      return cumulativeSum(values);
    case "drawdown":
      return drawdown(values);
    case "zscore":
      return zscore(values);
    case "rolling_mean":
      return rollingMoments(values, transform.window, "mean");
    case "rolling_std":
      return rollingMoments(values, transform.window, "std");
    case "rolling_min":
      return rollingExtreme(values, transform.window, "min");
    case "rolling_max":
      return rollingExtreme(values, transform.window, "max");
    case "ewm_mean":
      return ewmMean(values, transform.alpha);
  }
}

/** `f(previous, value)` per row; missing (never infinite) where undefined. */
function pairwise(
  values: Float64Array,
  f: (previous: number, value: number) => number,
): Float64Array {
  const out = new Float64Array(values.length);
  if (values.length > 0) out[0] = NaN;
  for (let i = 1; i < values.length; i++) {
    const result = f(values[i - 1], values[i]);
    // NaN in, NaN out; a division by zero or log(0) is not a number either.
    out[i] = Number.isFinite(result) ? result : NaN;
  }
  return out;
}

function cumulativeSum(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  const sum = new CompensatedSum();
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== value) {
      out[i] = NaN;
      continue;
    }
    sum.add(value);
    out[i] = sum.value;
  }
  return out;
}

function drawdown(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  let peak = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== value) {
      out[i] = NaN;
      continue;
    }
    if (value > peak) peak = value;
    out[i] = peak > 0 && value >= 0 ? value / peak - 1 : NaN;
  }
  return out;
}

function zscore(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  const sum = new CompensatedSum();
  let count = 0;
  for (const value of values) {
    if (value === value) {
      sum.add(value);
      count++;
    }
  }
  if (count < 2) return out;
  const mean = sum.value / count;
  const squares = new CompensatedSum();
  for (const value of values) {
    if (value === value) squares.add((value - mean) * (value - mean));
  }
  const stddev = Math.sqrt(squares.value / (count - 1));
  if (!(stddev > 0) || !Number.isFinite(stddev)) return out;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === value) out[i] = (value - mean) / stddev;
  }
  return out;
}

/**
 * Rolling mean or sample stddev over `window` rows in O(n).
 *
 * Sums of `x - shift` and `(x - shift)^2` are kept with compensated
 * summation; subtracting a shift close to the data keeps `sum2 - sum^2 / n`
 * from cancelling catastrophically when the values are large beside their
 * spread. The shift is the last value of the window at the re-seed, so it
 * stays inside every window until the next one: the first value, used
 * before, left at the very next row, and a window of zeros after a -7.02
 * then had a stddev of 1.1e-7 and one after 850,789.32 a mean of -1.2e-10
 * (the property test in tests/unit/analytics_properties_test.ts found
 * both). Every `window` rows the sums
 * are recomputed from the window itself with a fresh shift, so rounding
 * cannot accumulate over a million rows; that costs one extra pass over the
 * data in total. A window of identical values gives exactly that value
 * (mean) or 0 (stddev), as pandas does.
 */
function rollingMoments(
  values: Float64Array,
  window: number,
  moment: "mean" | "std",
): Float64Array {
  const n = values.length;
  const out = new Float64Array(n).fill(NaN);
  const sum = new CompensatedSum();
  const squares = new CompensatedSum();
  let shift = 0;
  let missing = 0;
  // Length of the run of equal values ending at the current row.
  let sameRun = 0;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value !== value) missing++;
    sameRun = i > 0 && value === values[i - 1] ? sameRun + 1 : 1;
    const leaving = i - window;
    if (leaving >= 0 && values[leaving] !== values[leaving]) missing--;
    if ((i + 1) % window === 0) {
      // Re-seed: the window is exactly rows [i - window + 1, i].
      shift = lastPresent(values, i - window + 1, i + 1);
      sum.reset();
      squares.reset();
      for (let j = i - window + 1; j <= i; j++) {
        const x = values[j];
        if (x !== x) continue;
        sum.add(x - shift);
        squares.add((x - shift) * (x - shift));
      }
    } else {
      if (value === value) {
        sum.add(value - shift);
        squares.add((value - shift) * (value - shift));
      }
      if (leaving >= 0) {
        const old = values[leaving];
        if (old === old) {
          sum.add(-(old - shift));
          squares.add(-((old - shift) * (old - shift)));
        }
      }
    }
    if (i < window - 1 || missing > 0) continue;
    if (moment === "mean") {
      out[i] = sameRun >= window ? value : shift + sum.value / window;
    } else if (sameRun >= window) {
      out[i] = 0;
    } else {
      const s = sum.value;
      const variance = (squares.value - s * s / window) / (window - 1);
      out[i] = Math.sqrt(Math.max(0, variance));
    }
  }
  return out;
}

function lastPresent(values: Float64Array, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (values[i] === values[i]) return values[i];
  return 0;
}

/**
 * Rolling minimum or maximum with a monotonic deque of row indices: each row
 * enters and leaves the deque once, so the whole pass is O(n) whatever the
 * window (a naive scan is O(n x window): 10^9 steps for 10^6 rows and 1,000).
 */
function rollingExtreme(values: Float64Array, window: number, kind: "min" | "max"): Float64Array {
  const n = values.length;
  const out = new Float64Array(n).fill(NaN);
  const deque = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  let missing = 0;
  const isMin = kind === "min";
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (value !== value) {
      missing++;
    } else {
      // Drop rows that can never be the extreme again: this one beats them.
      while (tail > head && atLeastAsExtreme(value, values[deque[tail - 1]], isMin)) tail--;
      deque[tail++] = i;
    }
    const leaving = i - window;
    if (leaving >= 0 && values[leaving] !== values[leaving]) missing--;
    while (tail > head && deque[head] <= leaving) head++;
    if (i >= window - 1 && missing === 0) out[i] = values[deque[head]];
  }
  return out;
}

// True when `value` is as small (min) or as large (max) as `kept` or more.
// Like Math.min and Math.max, -0 counts as below +0: a window holding both
// has -0 for its minimum and +0 for its maximum, whichever came first.
function atLeastAsExtreme(value: number, kept: number, isMin: boolean): boolean {
  if (value !== kept) return isMin ? value < kept : value > kept;
  if (value !== 0) return true;
  const valueNegative = Object.is(value, -0);
  const keptNegative = Object.is(kept, -0);
  return isMin ? valueNegative || !keptNegative : !valueNegative || keptNegative;
}

/** pandas' `ewm(alpha, adjust=True, ignore_na=False).mean()`, step for step. */
function ewmMean(values: Float64Array, alpha: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  const decay = 1 - alpha;
  let average = NaN;
  let oldWeight = 1;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    const present = value === value;
    if (average === average) {
      oldWeight *= decay;
      if (present) {
        // An unchanged average stays exact (pandas does the same).
        if (average !== value) {
          average = (oldWeight * average + value) / (oldWeight + 1);
        }
        oldWeight += 1;
      }
    } else if (present) {
      average = value;
      oldWeight = 1;
    }
    out[i] = average;
  }
  return out;
}
