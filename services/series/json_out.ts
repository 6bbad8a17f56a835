/**
 * JSON views of a series: the columnar object and uPlot's array-of-arrays.
 *
 * @module
 */
import type { Series } from "./types.ts";

/** The default JSON body of `GET /v1/reports/{id}/series`. */
export interface SeriesJson {
  /** Unix epoch seconds (fractional when the input had milliseconds). */
  timestamps: number[];
  /** One array per column, in column order; `null` is a missing value. */
  columns: Record<string, (number | null)[]>;
}

/**
 * Converts a series to its columnar JSON form, with seconds for timestamps
 * (what most plotting and analysis tools expect) and `null` for missing values
 * (JSON has no NaN).
 *
 * @example
 * ```ts
 * import { seriesToJson } from "./json_out.ts";
 * const body = seriesToJson({
 *   timestamps: new Float64Array([0, 1000]),
 *   names: ["value"],
 *   columns: [new Float64Array([1, NaN])],
 * });
 * console.assert(body.timestamps[1] === 1 && body.columns.value[1] === null);
 * ```
 */
export function seriesToJson(series: Series): SeriesJson {
  const columns: Record<string, (number | null)[]> = {};
  series.names.forEach((name, index) => {
    columns[name] = nullableValues(series.columns[index]);
  });
  return { timestamps: secondsOf(series.timestamps), columns };
}

/**
 * Converts a series to uPlot's data layout: `[timestamps, column1, column2, ...]`,
 * timestamps in seconds, in column order, ready for `new uPlot(opts, data)`.
 */
export function seriesToUplot(series: Series): (number | null)[][] {
  return [secondsOf(series.timestamps), ...series.columns.map(nullableValues)];
}

function secondsOf(timestamps: Float64Array): number[] {
  const seconds = new Array<number>(timestamps.length);
  for (let i = 0; i < timestamps.length; i++) seconds[i] = timestamps[i] / 1000;
  return seconds;
}

function nullableValues(column: Float64Array): (number | null)[] {
  const values = new Array<number | null>(column.length);
  for (let i = 0; i < column.length; i++) values[i] = Number.isNaN(column[i]) ? null : column[i];
  return values;
}
