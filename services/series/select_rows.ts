/**
 * Row selection by index, shared by cleaning and downsampling.
 *
 * @module
 */

import type { Series } from "./types.ts";

/**
 * A new series holding the rows at `rows` (in that order) of every array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectRows } from "./select_rows.ts";
 * const picked = selectRows(
 *   { timestamps: new Float64Array([0, 1, 2]), names: ["v"], columns: [new Float64Array([5, 6, 7])] },
 *   new Uint32Array([2, 0]),
 * );
 * assert.deepEqual([...picked.timestamps], [2, 0]);
 * assert.deepEqual([...picked.columns[0]], [7, 5]);
 * ```
 */
export function selectRows(series: Series, rows: Uint32Array): Series {
  return {
    timestamps: gather(series.timestamps, rows),
    names: series.names,
    columns: series.columns.map((column) => gather(column, rows)),
  };
}

function gather(values: Float64Array, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}
