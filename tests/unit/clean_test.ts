import assert from "node:assert/strict";
import fc from "fast-check";
import { cleanSeries } from "../../services/series/clean.ts";
import type { Series } from "../../services/series/types.ts";

function series(timestamps: number[], ...columns: number[][]): Series {
  return {
    timestamps: Float64Array.from(timestamps),
    names: columns.map((_, i) => `c${i}`),
    columns: columns.map((column) => Float64Array.from(column)),
  };
}

Deno.test("a strictly increasing series is returned as is", () => {
  const input = series([1, 2, 3], [4, 5, 6]);
  const { series: output, duplicates } = cleanSeries(input);
  assert.equal(output, input);
  assert.equal(duplicates, 0);
});

Deno.test("an empty or one-row series is unchanged", () => {
  assert.equal(cleanSeries(series([], [])).duplicates, 0);
  assert.deepEqual([...cleanSeries(series([5], [1])).series.timestamps], [5]);
});

Deno.test("unsorted rows are sorted with their values", () => {
  const { series: output, duplicates } = cleanSeries(series([3, 1, 2], [30, 10, 20], [3, 1, 2]));
  assert.deepEqual([...output.timestamps], [1, 2, 3]);
  assert.deepEqual([...output.columns[0]], [10, 20, 30]);
  assert.deepEqual([...output.columns[1]], [1, 2, 3]);
  assert.deepEqual(output.names, ["c0", "c1"]);
  assert.equal(duplicates, 0);
});

Deno.test("for equal timestamps the last row in input order wins", () => {
  // Sorted input with adjacent duplicates.
  let result = cleanSeries(series([1, 1, 2, 2, 2], [1, 2, 3, 4, 5]));
  assert.deepEqual([...result.series.timestamps], [1, 2]);
  assert.deepEqual([...result.series.columns[0]], [2, 5]);
  assert.equal(result.duplicates, 3);
  // Unsorted input with scattered duplicates.
  result = cleanSeries(series([5, 1, 5, 3, 1], [1, 2, 3, 4, 5]));
  assert.deepEqual([...result.series.timestamps], [1, 3, 5]);
  assert.deepEqual([...result.series.columns[0]], [5, 4, 3]);
  assert.equal(result.duplicates, 2);
});

Deno.test("the winning row keeps its missing values", () => {
  const result = cleanSeries(series([1, 1], [7, NaN]));
  assert.deepEqual([...result.series.columns[0]], [NaN]);
});

Deno.test("the input is not modified", () => {
  const input = series([2, 1, 2], [1, 2, 3]);
  cleanSeries(input);
  assert.deepEqual([...input.timestamps], [2, 1, 2]);
  assert.deepEqual([...input.columns[0]], [1, 2, 3]);
});

Deno.test("large reversed and nearly sorted inputs are sorted", () => {
  const n = 10_000;
  const reversed = Array.from({ length: n }, (_, i) => n - i);
  const reversedResult = cleanSeries(series(reversed, reversed));
  assert.deepEqual([...reversedResult.series.timestamps], reversed.toReversed());
  // Two sorted halves, as when two exports are concatenated.
  const halves = [
    ...Array.from({ length: n / 2 }, (_, i) => i * 2),
    ...Array.from({ length: n / 2 }, (_, i) => i * 2 + 1),
  ];
  const halvesResult = cleanSeries(series(halves, halves));
  assert.deepEqual([...halvesResult.series.columns[0]], Array.from({ length: n }, (_, i) => i));
});

/** The naive model: sort row indices stably, keep the last row of each timestamp. */
function reference(timestamps: number[], values: number[]): { t: number[]; v: number[] } {
  const last = new Map<number, number>();
  timestamps.forEach((t, i) => last.set(t, i));
  const t = [...last.keys()].sort((a, b) => a - b);
  return { t, v: t.map((key) => values[last.get(key)!]) };
}

Deno.test("property: output is sorted, unique and keeps the last row per timestamp", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer()), { maxLength: 400 }),
      (rows) => {
        const timestamps = rows.map(([t]) => t);
        const values = rows.map(([, v]) => v);
        const { series: output, duplicates } = cleanSeries(series(timestamps, values));
        for (let i = 1; i < output.timestamps.length; i++) {
          assert.ok(output.timestamps[i - 1] < output.timestamps[i]);
        }
        const expected = reference(timestamps, values);
        assert.deepEqual([...output.timestamps], expected.t);
        assert.deepEqual([...output.columns[0]], expected.v);
        assert.equal(duplicates, rows.length - expected.t.length);
      },
    ),
    { numRuns: 500 },
  );
});
