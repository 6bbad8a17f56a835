import assert from "node:assert/strict";
import { sliceSeries } from "../../services/series/slice.ts";
import type { Series } from "../../services/series/types.ts";

const input: Series = {
  timestamps: Float64Array.of(0, 1000, 2000, 3000, 4000),
  names: ["v"],
  columns: [Float64Array.of(1, 2, 3, 4, 5)],
};

function times(series: Series): number[] {
  return [...series.timestamps];
}

Deno.test("the range is inclusive at both ends", () => {
  const slice = sliceSeries(input, { from: 1000, to: 3000 });
  assert.deepEqual(times(slice), [1000, 2000, 3000]);
  assert.deepEqual([...slice.columns[0]], [2, 3, 4]);
});

Deno.test("bounds between points and absent bounds work", () => {
  assert.deepEqual(times(sliceSeries(input, { from: 1500 })), [2000, 3000, 4000]);
  assert.deepEqual(times(sliceSeries(input, { to: 1500 })), [0, 1000]);
  assert.deepEqual(times(sliceSeries(input, {})), times(input));
  assert.deepEqual(times(sliceSeries(input, { from: -5000, to: 99_000 })), times(input));
});

Deno.test("empty and inverted ranges give an empty series", () => {
  assert.deepEqual(times(sliceSeries(input, { from: 1100, to: 1900 })), []);
  assert.deepEqual(times(sliceSeries(input, { from: 3000, to: 1000 })), []);
  assert.deepEqual(times(sliceSeries(input, { from: 5000 })), []);
  assert.equal(sliceSeries(input, { to: -1 }).columns[0].length, 0);
});

Deno.test("slices are views on the same buffers", () => {
  const slice = sliceSeries(input, { from: 1000, to: 2000 });
  assert.equal(slice.timestamps.buffer, input.timestamps.buffer);
  assert.equal(slice.columns[0].buffer, input.columns[0].buffer);
  assert.equal(slice.columns[0].byteOffset, 8);
});
