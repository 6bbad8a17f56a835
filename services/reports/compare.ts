/**
 * Read use case: several ready reports aligned on common buckets, for
 * overlaying them on one chart (`GET /v1/compare`).
 *
 * @module
 */
import { AppError } from "../errors.ts";
import { downsampleSeries } from "../series/lttb.ts";
import { type ResampleAgg, type ResampleEvery, resampleSeries } from "../series/resample.ts";
import { selectRows } from "../series/select_rows.ts";
import { sliceSeries } from "../series/slice.ts";
import type { Series } from "../series/types.ts";
import { getReport, loadReadySeries, type Report, type ReportsContext } from "./mod.ts";

/** Most reports one comparison may name. */
export const MAX_COMPARE_IDS = 10;

/** How compared columns are scaled. */
export const COMPARE_NORMALIZE = ["none", "first"] as const;

/** Aggregates a comparison accepts (`ohlc` would give four columns per column). */
export const COMPARE_AGG = ["last", "first", "mean", "sum", "min", "max", "count"] as const;

/** Options of {@linkcode compareReports}. */
export interface CompareOptions {
  /** Report ids, 1 to {@linkcode MAX_COMPARE_IDS}, no repeats. */
  ids: string[];
  /** Bucket width the reports are aligned on. */
  every: ResampleEvery;
  /** Aggregate per bucket (default `last`). */
  agg?: Exclude<ResampleAgg, "ohlc">;
  /** `first`: each column divided by its first value on the common buckets, x 100. */
  normalize?: (typeof COMPARE_NORMALIZE)[number];
  /** Epoch ms, inclusive: buckets starting from here. */
  from?: number;
  /** Epoch ms, inclusive: buckets starting up to here. */
  to?: number;
  /** Downsample to about this many points with LTTB. */
  points?: number;
}

/**
 * Resamples each report to `every` with `agg` and keeps the buckets that all
 * of them have (the intersection), so every row compares like with like.
 * Columns are named `<report name>.<column>`; when two of the reports share a
 * name, theirs become `<report name> (<id>).<column>` so that no column
 * hides another. `from`/`to` then cut the common buckets (by their start):
 * they choose the comparison window. With `normalize=first` each column is
 * rebased to 100 at its first value in that window (a column missing there
 * is rebased at its first present value), so "since April" reads as
 * growth since April whatever the units. Last, `points` downsamples.
 *
 * Errors name the id, checked in this order over all ids: unknown (`not_found`,
 * 404), failed (`invalid_input`, 422), not ready yet (`conflict`, 409, with a
 * retry estimate). Rebasing a column whose first value is not positive is
 * `invalid_input`: dividing by it would flip or explode the line.
 *
 * @example
 * ```ts ignore
 * const both = await compareReports(context, { ids: [a, b], every: "1d", normalize: "first" });
 * ```
 */
export async function compareReports(
  context: ReportsContext,
  options: CompareOptions,
): Promise<Series> {
  const reports: Report[] = [];
  for (const id of options.ids) reports.push(await getReport(context, id));
  const failed = reports.find((report) => report.status === "failed");
  if (failed !== undefined) {
    throw new AppError("invalid_input", `Report ${failed.id} failed and cannot be compared`, {
      errors: [{ path: "query.ids", message: `Report ${failed.id} failed` }],
    });
  }
  const waiting = reports.find((report) => report.status !== "ready");
  if (waiting !== undefined) {
    throw new AppError(
      "conflict",
      `Report ${waiting.id} is ${waiting.status}; compare it once it is ready`,
      {
        errors: [{ path: "query.ids", message: `Report ${waiting.id} is ${waiting.status}` }],
        retryAfterSeconds: await context.jobs.estimateWaitSeconds(waiting.id),
      },
    );
  }
  const resampled: Series[] = [];
  for (const report of reports) {
    const series = await loadReadySeries(context, report.id);
    resampled.push(resampleSeries(series, { every: options.every, agg: options.agg }));
  }
  // The comparison window: buckets common to all, then cut to [from, to].
  const common = sliceSeries(
    {
      timestamps: commonTimestamps(resampled.map((series) => series.timestamps)),
      names: [],
      columns: [],
    },
    options,
  ).timestamps;
  const sharedNames = new Set(
    reports.map((report) => report.name).filter((name, i, names) => names.indexOf(name) !== i),
  );
  const names: string[] = [];
  const columns: Float64Array[] = [];
  reports.forEach((report, r) => {
    const prefix = sharedNames.has(report.name) ? `${report.name} (${report.id})` : report.name;
    const picked = selectRows(resampled[r], rowsAt(resampled[r].timestamps, common));
    picked.names.forEach((column, c) => {
      const name = `${prefix}.${column}`;
      const values = picked.columns[c];
      names.push(name);
      columns.push(options.normalize === "first" ? rebase(values, name) : values);
    });
  });
  const aligned = { timestamps: common, names, columns };
  return options.points === undefined ? aligned : downsampleSeries(aligned, options.points);
}

/** Timestamps present in every sorted array (a merge of sorted lists). */
function commonTimestamps(all: Float64Array[]): Float64Array {
  let common = all[0];
  for (const next of all.slice(1)) {
    const out = new Float64Array(Math.min(common.length, next.length));
    let count = 0;
    for (let i = 0, j = 0; i < common.length && j < next.length;) {
      if (common[i] < next[j]) i++;
      else if (common[i] > next[j]) j++;
      else {
        out[count++] = common[i];
        i++;
        j++;
      }
    }
    common = out.subarray(0, count);
  }
  return common;
}

/** Indices in `timestamps` (sorted) of each of `wanted` (sorted, all present). */
function rowsAt(timestamps: Float64Array, wanted: Float64Array): Uint32Array {
  const rows = new Uint32Array(wanted.length);
  for (let i = 0, j = 0; i < wanted.length; i++) {
    while (timestamps[j] < wanted[i]) j++;
    rows[i] = j;
  }
  return rows;
}

function rebase(values: Float64Array, name: string): Float64Array {
  const base = values.find((value) => value === value);
  if (base === undefined) return values;
  if (!(base > 0)) {
    throw new AppError("invalid_input", `Column "${name}" cannot be rebased to 100`, {
      errors: [{
        path: "query.normalize",
        message: `The first value of "${name}" is ${base}; normalize=first needs a positive one`,
      }],
    });
  }
  return values.map((value) => value / base * 100);
}
