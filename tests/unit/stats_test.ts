import assert from "node:assert/strict";
import fc from "fast-check";
import { columnStats, percentiles, summarizeSeries } from "../../services/series/stats.ts";
import type { ColumnStats, Series } from "../../services/series/types.ts";
import { assertAppError } from "../helpers/assert_app_error.ts";

/** Numpy's default percentile ("linear", type 7) on a sorted copy. */
function naivePercentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * fraction;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Two-pass reference statistics. */
function naiveStats(column: number[]): ColumnStats {
  const present = column.filter((value) => !Number.isNaN(value));
  const count = present.length;
  if (count === 0) {
    return {
      count,
      missing: column.length,
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
  const mean = present.reduce((sum, value) => sum + value, 0) / count;
  const variance = present.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (count - 1);
  const first = present[0];
  const last = present[count - 1];
  return {
    count,
    missing: column.length - count,
    min: Math.min(...present),
    max: Math.max(...present),
    mean,
    stddev: count < 2 ? null : Math.sqrt(variance),
    p50: naivePercentile(present, 0.5),
    p90: naivePercentile(present, 0.9),
    p99: naivePercentile(present, 0.99),
    first,
    last,
    change: last - first,
    change_pct: first === 0 ? null : finiteOrNull((last - first) / Math.abs(first) * 100),
  };
}

function assertClose(actual: number | null, expected: number | null, label: string): void {
  if (expected === null || actual === null) {
    assert.equal(actual, expected, label);
    return;
  }
  const scale = Math.max(1, Math.abs(expected));
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * scale,
    `${label}: ${actual} is not close to ${expected}`,
  );
}

function assertStatsClose(actual: ColumnStats, expected: ColumnStats): void {
  for (const key of Object.keys(expected) as (keyof ColumnStats)[]) {
    assertClose(actual[key], expected[key], key);
  }
}

function series(timestamps: number[], columns: Record<string, number[]>): Series {
  return {
    timestamps: Float64Array.from(timestamps),
    names: Object.keys(columns),
    columns: Object.values(columns).map((column) => Float64Array.from(column)),
  };
}

Deno.test("percentiles interpolate between closest ranks like numpy", () => {
  const oneToTen = Float64Array.from({ length: 10 }, (_, i) => i + 1);
  const [p50, p90, p99] = percentiles(oneToTen, [0.5, 0.9, 0.99]);
  assert.equal(p50, 5.5);
  assertClose(p90, 9.1, "p90");
  assertClose(p99, 9.91, "p99");
  assert.deepEqual(percentiles(Float64Array.of(7), [0, 0.5, 1]), [7, 7, 7]);
  assert.deepEqual(percentiles(Float64Array.of(3, 1, 2), [0, 1]), [1, 3]);
});

Deno.test("column statistics match a hand-computed example", () => {
  const stats = columnStats(Float64Array.of(2, NaN, 4, 4, NaN, 4, 5, 5, 7, 9));
  assert.equal(stats.count, 8);
  assert.equal(stats.missing, 2);
  assert.equal(stats.min, 2);
  assert.equal(stats.max, 9);
  assert.equal(stats.mean, 5);
  assertClose(stats.stddev, Math.sqrt(32 / 7), "stddev");
  assert.equal(stats.p50, 4.5);
  assertClose(stats.p90, 7.6, "p90");
  assert.equal(stats.first, 2);
  assert.equal(stats.last, 9);
  assert.equal(stats.change, 7);
  assert.equal(stats.change_pct, 350);
});

Deno.test("an all-missing column has a count of 0 and null statistics", () => {
  const stats = columnStats(Float64Array.of(NaN, NaN));
  assert.deepEqual(stats, naiveStats([NaN, NaN]));
  assert.equal(stats.missing, 2);
  assert.equal(stats.mean, null);
});

Deno.test("a single value has no standard deviation", () => {
  const stats = columnStats(Float64Array.of(NaN, 3));
  assert.equal(stats.stddev, null);
  assert.equal(stats.p99, 3);
  assert.equal(stats.change, 0);
  assert.equal(stats.change_pct, 0);
});

Deno.test("change_pct is null when the first value is 0 and uses |first|", () => {
  assert.equal(columnStats(Float64Array.of(0, 5)).change_pct, null);
  assert.equal(columnStats(Float64Array.of(5e-324, 5)).change_pct, null);
  assert.equal(columnStats(Float64Array.of(-4, -2)).change_pct, 50);
  assert.equal(columnStats(Float64Array.of(-4, -6)).change_pct, -50);
});

Deno.test("the mean stays accurate on a large offset", () => {
  const high = 1e9 + 0.1;
  const low = 1e9 - 0.1;
  const values = Float64Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? high : low));
  const stats = columnStats(values);
  // Half the spread of the doubles actually stored (the subtraction is exact).
  const deviation = (high - low) / 2;
  assertClose(stats.mean, low + deviation, "mean");
  assertClose(stats.stddev, deviation * Math.sqrt(1000 / 999), "stddev");
});

Deno.test("the summary has the span, interval median and gaps", () => {
  const minute = 60_000;
  const t = [0, 1, 2, 3, 10, 11, 31, 32].map((m) => m * minute);
  const summary = summarizeSeries(series(t, { v: [1, 2, 3, 4, 5, 6, 7, 8] }));
  assert.equal(summary.start, "1970-01-01T00:00:00.000Z");
  assert.equal(summary.end, "1970-01-01T00:32:00.000Z");
  assert.equal(summary.points, 8);
  assert.equal(summary.interval_median_s, 60);
  assert.deepEqual(summary.gaps, {
    count: 2,
    threshold_s: 180,
    largest: [
      { from: "1970-01-01T00:11:00.000Z", to: "1970-01-01T00:31:00.000Z", seconds: 1200 },
      { from: "1970-01-01T00:03:00.000Z", to: "1970-01-01T00:10:00.000Z", seconds: 420 },
    ],
  });
  assert.deepEqual(Object.keys(summary.columns), ["v"]);
});

Deno.test("an interval of exactly three medians is not a gap", () => {
  const summary = summarizeSeries(series([0, 1000, 2000, 5000], { v: [1, 2, 3, 4] }));
  assert.equal(summary.gaps.count, 0);
  assert.equal(summary.gaps.threshold_s, 3);
});

Deno.test("only the 10 largest gaps are listed, largest first, ties in time order", () => {
  // Regular 1 s steps with 12 gaps: 11 of 100 s and one of 200 s.
  const t: number[] = [];
  let now = 0;
  for (let i = 0; i < 100; i++) {
    t.push(now);
    now += i % 8 === 7 ? (i === 95 ? 200_000 : 100_000) : 1000;
  }
  const summary = summarizeSeries(series(t, { v: t.map(() => 1) }));
  assert.equal(summary.gaps.count, 12);
  assert.equal(summary.gaps.largest.length, 10);
  assert.equal(summary.gaps.largest[0].seconds, 200);
  assert.ok(summary.gaps.largest.slice(1).every((gap) => gap.seconds === 100));
  const froms = summary.gaps.largest.slice(1).map((gap) => gap.from);
  assert.deepEqual(froms, [...froms].sort());
});

// Issue 12 changed this test's expectations: mean and p50 of these two are 0,
// a double, so null was a wrong answer (stats_exact_test.ts holds the rest).
Deno.test("statistics that overflow the double range are null, representable ones are not", () => {
  const stats = columnStats(Float64Array.of(-1.7e308, 1.7e308));
  assert.equal(stats.change, null);
  assert.equal(stats.p50, 0);
  assert.equal(stats.mean, 0);
  assert.equal(stats.min, -1.7e308);
  assert.deepEqual(percentiles(Float64Array.of(-1.7e308, 1.7e308), [0, 1]), [-1.7e308, 1.7e308]);
});

Deno.test("a single point has no intervals", () => {
  const summary = summarizeSeries(series([0], { v: [1] }));
  assert.equal(summary.start, summary.end);
  assert.equal(summary.interval_median_s, null);
  assert.deepEqual(summary.gaps, { count: 0, threshold_s: null, largest: [] });
});

Deno.test("an empty series cannot be summarized", () => {
  assertAppError(() => summarizeSeries(series([], { v: [] })), "invalid_input", {
    message: /no points/,
  });
});

Deno.test("property: column statistics match the naive reference", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          { weight: 1, arbitrary: fc.constant(NaN) },
          { weight: 4, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
          { weight: 2, arbitrary: fc.integer({ min: -5, max: 5 }) },
        ),
        { maxLength: 300 },
      ),
      (column) => {
        assertStatsClose(columnStats(Float64Array.from(column)), naiveStats(column));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("property: arbitrary percentiles match the sorted reference", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 200 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
      (values, fractions) => {
        const actual = percentiles(Float64Array.from(values), fractions);
        fractions.forEach((fraction, i) => {
          assertClose(actual[i], naivePercentile(values, fraction), `p${fraction}`);
        });
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("property: the interval median matches the sorted reference", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 1e9 }), { minLength: 2, maxLength: 200 }),
      (raw) => {
        const t = raw.toSorted((a, b) => a - b);
        const differences = t.slice(1).map((value, i) => value - t[i]);
        const median = naivePercentile(differences, 0.5);
        const summary = summarizeSeries(series(t, { v: t }));
        assertClose(summary.interval_median_s, median / 1000, "median");
        assert.equal(summary.gaps.count, differences.filter((d) => d > 3 * median).length);
      },
    ),
    { numRuns: 500 },
  );
});
