/** Analytics, transforms and the series cache: the cases the oracle and properties do not pin down. */
import assert from "node:assert/strict";
import {
  analyzeSeries,
  MAX_CORRELATION_COLUMNS,
  periodsPerYear,
} from "../../services/series/analytics.ts";
import { processUpload } from "../../services/series/process.ts";
import { resampleSeries } from "../../services/series/resample.ts";
import { parseTransform, transformColumn } from "../../services/series/transforms.ts";
import { ReportCache } from "../../services/reports/cache.ts";
import type { Series } from "../../services/series/types.ts";

const DAY = 86_400_000;

function daily(values: number[], start = Date.UTC(2021, 0, 4)): Series {
  return {
    timestamps: Float64Array.from(values, (_, i) => start + i * DAY),
    names: ["v"],
    columns: [Float64Array.from(values)],
  };
}

Deno.test("periodsPerYear: 252 for weekday-only daily data, 365.25 with weekends", () => {
  const weekdays: number[] = [];
  for (let t = Date.UTC(2021, 0, 4); weekdays.length < 100; t += DAY) {
    const day = new Date(t).getUTCDay();
    if (day !== 0 && day !== 6) weekdays.push(t);
  }
  assert.equal(periodsPerYear(Float64Array.from(weekdays), DAY), 252);
  assert.equal(periodsPerYear(daily(new Array(30).fill(1)).timestamps, DAY), 365.25);
  assert.equal(periodsPerYear(new Float64Array([0, 31 * DAY]), 31 * DAY), 12);
  assert.equal(periodsPerYear(new Float64Array([0, 7 * DAY]), 7 * DAY), 365.25 / 7);
  assert.equal(periodsPerYear(new Float64Array([0]), null), null);
});

Deno.test("analyzeSeries gives null with a reason for a short span, non-positive values and a zero MAD", () => {
  const short = analyzeSeries(daily([1, 2, 3]), { medianIntervalMs: DAY }).columns.v;
  assert.equal(short.cagr, null);
  assert.match(short.null_reasons.cagr, /\(2 days\) is shorter than 30 days/);
  assert.equal(short.return_total, 2);

  const negative = analyzeSeries(daily([1, -2, 3, 4]), { medianIntervalMs: DAY }).columns.v;
  for (
    const key of ["return_total", "cagr", "volatility_annualized", "max_drawdown", "sharpe_like"]
  ) {
    assert.equal(negative[key as keyof typeof negative], null, key);
    assert.match(negative.null_reasons[key], /positive/, key);
  }
  assert.notEqual(negative.trend, null);

  const flat = analyzeSeries(daily([5, 5, 5, 5, 9]), { medianIntervalMs: DAY }).columns.v;
  assert.equal(flat.outliers, null);
  assert.match(flat.null_reasons.outliers, /median absolute deviation is 0/);

  const single = analyzeSeries(daily([5]), { medianIntervalMs: null });
  assert.equal(single.periods_per_year, null);
  assert.equal(single.columns.v.trend, null);
  assert.match(single.columns.v.null_reasons.trend, /two values/);
});

Deno.test("analyzeSeries finds the worst drawdown's peak, trough and recovery", () => {
  const result = analyzeSeries(daily([10, 12, 9, 6, 11, 12, 13, 7]), { medianIntervalMs: DAY });
  assert.deepEqual(result.columns.v.max_drawdown, {
    value: -0.5,
    peak: "2021-01-05T00:00:00.000Z",
    trough: "2021-01-07T00:00:00.000Z",
    recovery: "2021-01-09T00:00:00.000Z",
  });
  const rising = analyzeSeries(daily([1, 2, 3]), { medianIntervalMs: DAY });
  assert.deepEqual(rising.columns.v.max_drawdown, {
    value: 0,
    peak: null,
    trough: null,
    recovery: null,
  });
});

Deno.test("analyzeSeries counts a spike as an outlier and fits a trend per day", () => {
  const values = Array.from({ length: 50 }, (_, i) => 100 + i + (i % 2) * 0.5);
  values[25] = 1000;
  const v = analyzeSeries(daily(values), { medianIntervalMs: DAY }).columns.v;
  assert.equal(v.outliers, 1);
  assert.ok(v.trend !== null && v.trend.slope_per_day > 0.5 && v.trend.r2! < 1);
});

Deno.test("correlation is null with a reason beyond the column limit, and per pair below 3 points", () => {
  const n = MAX_CORRELATION_COLUMNS + 1;
  const wide: Series = {
    timestamps: new Float64Array([0, DAY, 2 * DAY]),
    names: Array.from({ length: n }, (_, i) => `c${i}`),
    columns: Array.from({ length: n }, (_, i) => new Float64Array([i, i + 1, i * 2])),
  };
  const result = analyzeSeries(wide, { medianIntervalMs: DAY });
  assert.equal(result.correlation, null);
  assert.match(result.null_reasons.correlation, /at most 32 columns/);

  const sparse = analyzeSeries({
    timestamps: new Float64Array([0, DAY, 2 * DAY, 3 * DAY]),
    names: ["a", "b"],
    columns: [new Float64Array([1, 2, NaN, 4]), new Float64Array([1, NaN, 3, 5])],
  }, { medianIntervalMs: DAY });
  assert.deepEqual(sparse.correlation, { columns: ["a", "b"], matrix: [[1, null], [null, 1]] });
});

Deno.test("processUpload puts the analytics in the summary", async () => {
  const csv = "t,a,b\n2021-01-04,1,10\n2021-01-05,2,8\n2021-01-06,4,6\n2021-01-07,3,4\n";
  const { summary } = await processUpload(new TextEncoder().encode(csv), {
    format: "csv",
    maxPoints: 100,
  });
  assert.equal(summary.periods_per_year, 252);
  assert.equal(summary.columns.a.return_total, 2);
  assert.equal(summary.columns.a.count, 4);
  assert.deepEqual(summary.correlation?.columns, ["a", "b"]);
  assert.deepEqual(summary.null_reasons, {});
});

Deno.test("transforms: division by zero and log of a non-positive ratio are missing", () => {
  const values = new Float64Array([0, 2, -1, 4]);
  assert.deepEqual([...transformColumn(values, { kind: "pct_change" })], [NaN, NaN, -1.5, -5]);
  assert.deepEqual(
    [...transformColumn(values, { kind: "log_return" })],
    [NaN, NaN, NaN, NaN],
  );
  assert.deepEqual([...transformColumn(new Float64Array([3, 3]), { kind: "zscore" })], [NaN, NaN]);
  assert.deepEqual(
    [...transformColumn(new Float64Array([NaN, 2, NaN, 4]), { kind: "ewm_mean", alpha: 0.5 })],
    [NaN, 2, 2, (0.25 * 2 + 4) / 1.25],
  );
});

Deno.test("rolling stddev stays exact over 200,000 rows far from zero", () => {
  // 1e9 + small noise: a naive running sum of squares would lose every digit here.
  const n = 200_000;
  const values = Float64Array.from({ length: n }, (_, i) => 1e9 + ((i * 7919) % 13) / 10);
  const std = transformColumn(values, { kind: "rolling_std", window: 1000 });
  const window = values.subarray(n - 1000);
  const mean = window.reduce((a, b) => a + b, 0) / 1000;
  const exact = Math.sqrt(window.reduce((a, b) => a + (b - mean) ** 2, 0) / 999);
  assert.ok(Math.abs(std[n - 1] - exact) / exact < 1e-9, `${std[n - 1]} vs ${exact}`);
  const constant = transformColumn(new Float64Array(50).fill(0.1), {
    kind: "rolling_std",
    window: 5,
  });
  assert.equal(constant[49], 0);
});

Deno.test("parseTransform accepts the documented forms only", () => {
  assert.deepEqual(parseTransform("ewm_mean:.25"), {
    ok: true,
    transform: { kind: "ewm_mean", alpha: 0.25 },
  });
  assert.deepEqual(parseTransform("rolling_std:10000"), {
    ok: true,
    transform: { kind: "rolling_std", window: 10000 },
  });
  for (
    const bad of [
      "",
      "rolling_mean:",
      "rolling_mean:2.5",
      "rolling_mean:-3",
      "ewm_mean:1e-3",
      "diff:1:2",
      "constructor",
    ]
  ) {
    assert.equal(parseTransform(bad).ok, false, bad);
  }
});

Deno.test("resampling with mean is compensated: a million equal small values stay exact", () => {
  const n = 1_000_000;
  const series: Series = {
    timestamps: Float64Array.from({ length: n }, (_, i) => i * 1000),
    names: ["v"],
    columns: [new Float64Array(n).fill(0.1)],
  };
  const [bucket] = resampleSeries(series, { every: "1mo", agg: "mean" }).columns;
  assert.equal(bucket[0], 0.1);
});

Deno.test("ReportCache with a weight bound evicts the least recently used until the rest fit", () => {
  const cache = new ReportCache<number[]>({ maxWeight: 10, weigh: (value) => value.length });
  cache.set("a", [1, 2, 3, 4]);
  cache.set("b", [1, 2, 3, 4]);
  cache.get("a");
  cache.set("c", [1, 2, 3, 4]);
  assert.equal(cache.get("b"), undefined);
  assert.deepEqual([cache.get("a")?.length, cache.get("c")?.length], [4, 4]);
  assert.equal(cache.weight, 8);
  cache.set("huge", new Array(11).fill(0));
  assert.equal(cache.get("huge"), undefined);
  assert.equal(cache.weight, 8);
  cache.delete("a");
  assert.equal(cache.weight, 4);
});

Deno.test("ReportCache.deletePrefix drops a series and the views keyed after it", () => {
  const cache = new ReportCache<number[]>({ maxWeight: 100, weigh: (value) => value.length });
  cache.set("id-1", [1, 2]);
  cache.set('id-1?["1h","ohlc",null]', [1]);
  cache.set("id-2", [1, 2, 3]);
  cache.deletePrefix("id-1");
  assert.equal(cache.size, 1);
  assert.equal(cache.weight, 3);
  assert.deepEqual(cache.get("id-2"), [1, 2, 3]);
});
