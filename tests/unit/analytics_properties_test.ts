/**
 * Properties of resampling, transforms and analytics over arbitrary series
 * (fast-check): what must hold whatever the data, beside the pandas oracle's
 * fixed cases.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { analyzeSeries } from "../../services/series/analytics.ts";
import {
  bucketStart,
  RESAMPLE_EVERY,
  type ResampleEvery,
  resampleSeries,
} from "../../services/series/resample.ts";
import { transformColumn } from "../../services/series/transforms.ts";
import type { Series } from "../../services/series/types.ts";

const MINUTE = 60_000;

/** Sorted unique timestamps with steps from a second to 40 days, and values with gaps. */
const seriesArbitrary = (options: { missing?: boolean } = {}) =>
  fc.record({
    start: fc.integer({ min: -2e11, max: 4e12 }),
    steps: fc.array(fc.integer({ min: 1_000, max: 40 * 86_400_000 }), {
      minLength: 1,
      maxLength: 300,
    }),
    seed: fc.array(
      options.missing === false ? fc.double({ min: -1e6, max: 1e6, noNaN: true }) : fc.oneof(
        { weight: 9, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
        { weight: 1, arbitrary: fc.constant(NaN) },
      ),
      { minLength: 1, maxLength: 300 },
    ),
  }).map(({ start, steps, seed }): Series => {
    const n = Math.min(steps.length, seed.length);
    const timestamps = new Float64Array(n);
    let t = start;
    for (let i = 0; i < n; i++) {
      timestamps[i] = t;
      t += steps[i];
    }
    return { timestamps, names: ["v"], columns: [Float64Array.from(seed.slice(0, n))] };
  });

const everyArbitrary = fc.constantFrom<ResampleEvery>(...RESAMPLE_EVERY);

function present(values: Float64Array): number[] {
  return [...values].filter((value) => !Number.isNaN(value));
}

function exactSum(values: number[]): number {
  // Sorting by magnitude and summing pairs is close enough to exact for a bound.
  return values.reduce((total, value) => total + value, 0);
}

Deno.test("property: resampling with sum preserves the total", () => {
  fc.assert(
    fc.property(seriesArbitrary(), everyArbitrary, (series, every) => {
      const sums = resampleSeries(series, { every, agg: "sum" }).columns[0];
      const values = present(series.columns[0]);
      const scale = values.reduce((total, value) => total + Math.abs(value), 0);
      const difference = Math.abs(exactSum(present(sums)) - exactSum(values));
      assert.ok(difference <= 1e-9 * scale + 1e-9, `${difference} of ${scale}`);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: resampling with count preserves the number of values", () => {
  fc.assert(
    fc.property(seriesArbitrary(), everyArbitrary, (series, every) => {
      const counts = resampleSeries(series, { every, agg: "count" }).columns[0];
      assert.equal(exactSum([...counts]), present(series.columns[0]).length);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: ohlc open and close are each bucket's first and last values", () => {
  fc.assert(
    fc.property(seriesArbitrary(), everyArbitrary, (series, every) => {
      const out = resampleSeries(series, { every, agg: "ohlc" });
      // Brute force: group every row by its bucket start.
      const groups = new Map<number, number[]>();
      series.timestamps.forEach((t, i) => {
        const key = bucketStart(t, every);
        if (!groups.has(key)) groups.set(key, []);
        if (!Number.isNaN(series.columns[0][i])) groups.get(key)!.push(series.columns[0][i]);
      });
      assert.deepEqual([...out.timestamps], [...groups.keys()]);
      [...groups.values()].forEach((values, b) => {
        const [open, high, low, close] = out.columns.map((column) => column[b]);
        if (values.length === 0) {
          assert.ok([open, high, low, close].every(Number.isNaN));
          return;
        }
        assert.equal(open, values[0]);
        assert.equal(close, values[values.length - 1]);
        assert.equal(high, Math.max(...values));
        assert.equal(low, Math.min(...values));
      });
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: buckets are aligned, increasing, and calendar months start on the 1st", () => {
  fc.assert(
    fc.property(seriesArbitrary(), everyArbitrary, (series, every) => {
      const labels = resampleSeries(series, { every }).timestamps;
      for (let i = 0; i < labels.length; i++) {
        assert.equal(bucketStart(labels[i], every), labels[i]);
        if (i > 0) assert.ok(labels[i] > labels[i - 1]);
        const date = new Date(labels[i]);
        if (every === "1mo") assert.equal(date.getUTCDate(), 1);
        if (every === "1w") assert.equal(date.getUTCDay(), 1);
        if (every !== "1m" && every !== "5m" && every !== "15m" && every !== "30m") {
          assert.equal(date.getUTCMinutes(), 0);
        }
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: drawdown is in [-1, 0] wherever it is defined", () => {
  fc.assert(
    fc.property(seriesArbitrary(), (series) => {
      for (const value of transformColumn(series.columns[0], { kind: "drawdown" })) {
        if (!Number.isNaN(value)) assert.ok(value >= -1 && value <= 0, String(value));
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: rolling windows of size 1 equal the input", () => {
  fc.assert(
    fc.property(seriesArbitrary(), (series) => {
      const values = series.columns[0];
      for (const kind of ["rolling_mean", "rolling_min", "rolling_max"] as const) {
        assert.deepEqual(transformColumn(values, { kind, window: 1 }), values, kind);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: cumsum of diff restores the series up to its first value", () => {
  fc.assert(
    fc.property(seriesArbitrary({ missing: false }), (series) => {
      const values = series.columns[0];
      const restored = transformColumn(transformColumn(values, { kind: "diff" }), {
        kind: "cumsum",
      });
      assert.ok(Number.isNaN(restored[0]));
      const scale = Math.max(...values.map(Math.abs));
      for (let i = 1; i < values.length; i++) {
        const difference = Math.abs(restored[i] - (values[i] - values[0]));
        assert.ok(difference <= 1e-12 * scale * values.length, `${i}: ${difference}`);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: O(n) rolling windows equal a naive scan of each window", () => {
  fc.assert(
    fc.property(seriesArbitrary(), fc.integer({ min: 2, max: 40 }), (series, window) => {
      const values = series.columns[0];
      const mean = transformColumn(values, { kind: "rolling_mean", window });
      const std = transformColumn(values, { kind: "rolling_std", window });
      const min = transformColumn(values, { kind: "rolling_min", window });
      const max = transformColumn(values, { kind: "rolling_max", window });
      for (let i = 0; i < values.length; i++) {
        const slice = [...values.subarray(Math.max(0, i - window + 1), i + 1)];
        if (i < window - 1 || slice.some(Number.isNaN)) {
          assert.ok([mean[i], std[i], min[i], max[i]].every(Number.isNaN), `row ${i}`);
          continue;
        }
        const m = slice.reduce((a, b) => a + b, 0) / window;
        const s = Math.sqrt(slice.reduce((a, b) => a + (b - m) ** 2, 0) / (window - 1));
        const scale = Math.max(...slice.map(Math.abs), 1);
        assert.ok(Math.abs(mean[i] - m) <= 1e-12 * scale, `mean ${i}: ${mean[i]} vs ${m}`);
        assert.ok(Math.abs(std[i] - s) <= 1e-7 * scale, `std ${i}: ${std[i]} vs ${s}`);
        assert.equal(min[i], Math.min(...slice));
        assert.equal(max[i], Math.max(...slice));
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("property: analytics never hold NaN or Infinity, and every null has a reason", () => {
  fc.assert(
    fc.property(seriesArbitrary(), (series) => {
      const twoColumns: Series = {
        ...series,
        names: ["v", "w"],
        columns: [series.columns[0], series.columns[0].map((value, i) => value * (i % 3) - 5)],
      };
      const analytics = analyzeSeries(twoColumns, { medianIntervalMs: MINUTE });
      const text = JSON.stringify(analytics, (_key, value) => {
        if (typeof value === "number") assert.ok(Number.isFinite(value), String(value));
        return value;
      });
      assert.ok(text.length > 0);
      for (const column of Object.values(analytics.columns)) {
        for (const [key, value] of Object.entries(column)) {
          if (value === null) assert.equal(typeof column.null_reasons[key], "string", key);
        }
        const drawdown = column.max_drawdown?.value;
        if (drawdown !== undefined) assert.ok(drawdown >= -1 && drawdown <= 0);
      }
      for (const row of analytics.correlation?.matrix ?? []) {
        for (const r of row) if (r !== null) assert.ok(r >= -1 && r <= 1);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("Rolling extremes order -0 below +0, as Math.min and Math.max do", () => {
  // Found by the property above (seed 1034454943): [0, -0] had the maximum -0.
  for (const values of [[0, -0], [-0, 0], [-0, -0], [0, 0]]) {
    const column = Float64Array.from(values);
    const min = transformColumn(column, { kind: "rolling_min", window: 2 })[1];
    const max = transformColumn(column, { kind: "rolling_max", window: 2 })[1];
    assert.ok(Object.is(min, Math.min(...values)), `min of ${values.map(String)}`);
    assert.ok(Object.is(max, Math.max(...values)), `max of ${values.map(String)}`);
  }
});

Deno.test("Rolling mean and stddev keep a window's small values after a large one left it", () => {
  // Found by the property above (seeds -94236923 and a later one): the shift
  // the sums are taken around had left the window.
  const mean = transformColumn(
    Float64Array.from([850789.3223000593, 0, 0, 0, 0, -5e-324]),
    { kind: "rolling_mean", window: 5 },
  );
  assert.ok(Math.abs(mean[5]) <= 1e-12, String(mean[5]));
  assert.equal(mean[4], 850789.3223000593 / 5);
  const std = transformColumn(
    Float64Array.from([-7.019185232332978, 0, 0, 0, 0, 0, -5e-324]),
    { kind: "rolling_std", window: 6 },
  );
  assert.ok(Math.abs(std[6]) <= 1e-7, String(std[6]));
});
