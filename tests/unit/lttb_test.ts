import assert from "node:assert/strict";
import fc from "fast-check";
import { downsampleSeries, lttbIndices } from "../../services/series/lttb.ts";
import type { Series } from "../../services/series/types.ts";

/** Steinarsson's reference implementation, transcribed to return indices. */
function referenceLttb(x: number[], y: number[], threshold: number): number[] {
  const n = x.length;
  if (threshold >= n) return x.map((_, i) => i);
  const sampled = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    let avgX = 0;
    let avgY = 0;
    let avgStart = Math.floor((i + 1) * every) + 1;
    const avgEnd = Math.min(n, Math.floor((i + 2) * every) + 1);
    const avgLength = avgEnd - avgStart;
    for (; avgStart < avgEnd; avgStart++) {
      avgX += x[avgStart];
      avgY += y[avgStart];
    }
    avgX /= avgLength;
    avgY /= avgLength;
    let maxArea = -1;
    let next = 0;
    for (let j = Math.floor(i * every) + 1; j < Math.floor((i + 1) * every) + 1; j++) {
      const area = Math.abs((x[a] - avgX) * (y[j] - y[a]) - (x[a] - x[j]) * (avgY - y[a])) * 0.5;
      if (area > maxArea) {
        maxArea = area;
        next = j;
      }
    }
    sampled.push(next);
    a = next;
  }
  sampled.push(n - 1);
  return sampled;
}

function seriesOf(timestamps: number[], columns: Record<string, number[]>): Series {
  return {
    timestamps: Float64Array.from(timestamps),
    names: Object.keys(columns),
    columns: Object.values(columns).map((column) => Float64Array.from(column)),
  };
}

Deno.test("with at most threshold points every index is returned", () => {
  const x = Float64Array.of(0, 1, 2);
  assert.deepEqual([...lttbIndices(x, Float64Array.of(5, 6, 7), 3)], [0, 1, 2]);
  assert.deepEqual([...lttbIndices(x, Float64Array.of(5, 6, 7), 10)], [0, 1, 2]);
  assert.deepEqual([...lttbIndices(new Float64Array(), new Float64Array(), 3)], []);
});

Deno.test("a threshold below 3 or not an integer is a RangeError", () => {
  const x = Float64Array.of(0, 1, 2, 3);
  for (const threshold of [0, 2, 3.5, NaN]) {
    assert.throws(() => lttbIndices(x, x, threshold), RangeError);
  }
  assert.throws(() => downsampleSeries(seriesOf([0], { v: [1] }), 2), RangeError);
});

Deno.test("spikes survive downsampling", () => {
  const n = 1000;
  const x = Float64Array.from({ length: n }, (_, i) => i);
  const y = new Float64Array(n);
  y[123] = 50;
  y[777] = -50;
  const picked = [...lttbIndices(x, y, 20)];
  assert.ok(picked.includes(123));
  assert.ok(picked.includes(777));
});

Deno.test("property: LTTB returns exactly N increasing indices with both ends", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 500 }),
      fc.integer({ min: 3, max: 600 }),
      (values, threshold) => {
        const n = values.length;
        const x = Float64Array.from(values, (_, i) => i * 1000 + 1.6e12);
        const picked = lttbIndices(x, Float64Array.from(values), threshold);
        assert.equal(picked.length, Math.min(threshold, n));
        assert.equal(picked[0], 0);
        assert.equal(picked[picked.length - 1], n - 1);
        for (let i = 1; i < picked.length; i++) assert.ok(picked[i - 1] < picked[i]);
        assert.deepEqual([...picked], referenceLttb([...x], values, threshold));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("one column without gaps downsamples to exactly the requested points", () => {
  const n = 5000;
  const t = Array.from({ length: n }, (_, i) => i * 1000);
  const v = t.map((_, i) => Math.sin(i / 100) + (i % 17 === 0 ? 3 : 0));
  const small = downsampleSeries(seriesOf(t, { v }), 250);
  assert.equal(small.timestamps.length, 250);
  assert.equal(small.timestamps[0], 0);
  assert.equal(small.timestamps[249], (n - 1) * 1000);
  assert.deepEqual(small.names, ["v"]);
});

Deno.test("a series no longer than the target is returned unchanged", () => {
  const input = seriesOf([0, 1, 2], { v: [1, 2, 3] });
  assert.equal(downsampleSeries(input, 3), input);
});

Deno.test("missing values are skipped by LTTB", () => {
  const n = 100;
  const t = Array.from({ length: n }, (_, i) => i);
  const v = t.map((i) => (i % 2 === 0 ? NaN : i));
  const small = downsampleSeries(seriesOf(t, { v }), 10);
  assert.equal(small.timestamps.length, 10);
  assert.ok([...small.columns[0]].every((value) => !Number.isNaN(value)));
  // The ends are the first and last present values, not the first and last rows.
  assert.equal(small.timestamps[0], 1);
  assert.equal(small.timestamps[9], 99);
});

Deno.test("rows are the union of every column's picks, with all values at those rows", () => {
  const n = 200;
  const t = Array.from({ length: n }, (_, i) => i * 10);
  const a = t.map((_, i) => (i === 50 ? 100 : 0));
  const b = t.map((_, i) => (i === 150 ? -100 : i < 100 ? NaN : 0));
  const allMissing = t.map(() => NaN);
  const small = downsampleSeries(seriesOf(t, { a, b, allMissing }), 5);
  const rows = [...small.timestamps].map((value) => value / 10);
  assert.ok(rows.includes(50) && rows.includes(150));
  assert.ok(rows.length > 5 && rows.length <= 10);
  rows.forEach((row, i) => {
    assert.ok(Object.is(small.columns[0][i], a[row]));
    assert.ok(Object.is(small.columns[1][i], b[row]));
    assert.ok(Number.isNaN(small.columns[2][i]));
  });
});

Deno.test("property: downsampled rows are increasing input rows with their values", () => {
  const cell = fc.oneof(fc.constant(NaN), fc.double({ min: -100, max: 100, noNaN: true }));
  fc.assert(
    fc.property(
      fc.array(fc.tuple(cell, cell), { minLength: 1, maxLength: 300 }),
      fc.integer({ min: 3, max: 50 }),
      (rows, points) => {
        const t = rows.map((_, i) => i * 60_000);
        const input = seriesOf(t, { a: rows.map(([a]) => a), b: rows.map(([, b]) => b) });
        const output = downsampleSeries(input, points);
        assert.ok(output.timestamps.length <= 2 * points);
        for (let i = 0; i < output.timestamps.length; i++) {
          const row = output.timestamps[i] / 60_000;
          if (i > 0) assert.ok(output.timestamps[i - 1] < output.timestamps[i]);
          assert.ok(Object.is(output.columns[0][i], input.columns[0][row]));
          assert.ok(Object.is(output.columns[1][i], input.columns[1][row]));
        }
        // Each column keeps at least as many present values as LTTB picked for it.
        output.columns.forEach((column, c) => {
          const present = column.filter((value) => !Number.isNaN(value)).length;
          const inputPresent = input.columns[c].filter((value) => !Number.isNaN(value)).length;
          assert.ok(present >= Math.min(points, inputPresent));
        });
      },
    ),
    { numRuns: 300 },
  );
});
