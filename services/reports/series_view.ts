/**
 * Read use case: a view of a ready report's series, resampled, transformed,
 * cut to a time range and downsampled for a chart, in that order.
 *
 * services/reports/ holds the report read use cases added since the first
 * wave; the original ones (create, get, list, delete, read the raw series)
 * are still in services/reports/mod.ts.
 *
 * @module
 */
import { AppError } from "../errors.ts";
import { downsampleSeries } from "../series/lttb.ts";
import { type ResampleAgg, type ResampleEvery, resampleSeries } from "../series/resample.ts";
import { sliceSeries } from "../series/slice.ts";
import { applyTransform, type Transform } from "../series/transforms.ts";
import type { Series } from "../series/types.ts";
import { loadReadySeries, type ReadSeriesOptions, type ReportsContext } from "./mod.ts";

/** Options of {@linkcode readSeriesView}: {@linkcode ReadSeriesOptions} plus analytics. */
export interface SeriesViewOptions extends ReadSeriesOptions {
  /** Resample into calendar-aligned UTC buckets of this width. */
  every?: ResampleEvery;
  /** Aggregate per bucket (default `last`); only with `every`. */
  agg?: ResampleAgg;
  /** Applied after resampling. */
  transform?: Transform;
}

/**
 * Returns the series of a ready report as asked: resampled to `every` with
 * `agg`, then transformed, then cut to `[from, to]`, then downsampled to
 * `points` with LTTB.
 *
 * Resampling and transforms run over the whole series before the cut, so a
 * zoomed-in view shows the same numbers as the full one: a rolling window is
 * already full at `from`, and a drawdown is measured from the report's real
 * running peak. With `every`, `from` and `to` select buckets by their start.
 * The work is O(n) on the cached decoded series (see `seriesCache` in
 * services/reports/mod.ts); the resampled and transformed view, and its
 * downsampled form when the whole range is asked for, are cached beside it.
 *
 * Throws `invalid_parameter` for `agg` without `every`, and what
 * {@linkcode loadReadySeries} throws.
 *
 * @example
 * ```ts ignore
 * const hourly = await readSeriesView(context, id, { every: "1h", agg: "ohlc", points: 1200 });
 * ```
 */
export async function readSeriesView(
  context: ReportsContext,
  id: string,
  options: SeriesViewOptions = {},
): Promise<Series> {
  if (options.agg !== undefined && options.every === undefined) {
    throw new AppError("invalid_parameter", "agg applies only when every is given", {
      errors: [{ path: "query.agg", message: "Give every (1m ... 1mo) to resample, or drop agg" }],
    });
  }
  // Also checks that the report exists and is ready, on every request, so a
  // cached view of a deleted report is never served.
  const whole = await loadReadySeries(context, id);
  const plain = options.every === undefined && options.transform === undefined;
  const viewKey = plain
    ? `${id}?`
    : `${id}?${JSON.stringify([options.every, options.agg, options.transform])}`;
  const view = plain ? whole : cached(context, viewKey, () => {
    const resampled = options.every === undefined
      ? whole
      : resampleSeries(whole, { every: options.every, agg: options.agg });
    return options.transform === undefined
      ? resampled
      : applyTransform(resampled, options.transform);
  });
  const zoomed = options.from !== undefined || options.to !== undefined;
  if (options.points === undefined) return sliceSeries(view, options);
  // The unzoomed chart (no from/to) is asked for again and again: keep it too.
  if (!zoomed) {
    return cached(
      context,
      `${viewKey}&points=${options.points}`,
      () => downsampleSeries(view, options.points!),
    );
  }
  return downsampleSeries(sliceSeries(view, options), options.points);
}

/**
 * A view derived from a cached series, from the series cache when there.
 * Views are immutable like the series: resampling a million points costs
 * ~20 ms and a rolling mean ~50 ms (bench/analytics.ts), paid once per view.
 */
function cached(context: ReportsContext, key: string, compute: () => Series): Series {
  const hit = context.seriesCache?.get(key);
  if (hit !== undefined) return hit;
  const view = compute();
  context.seriesCache?.set(key, view);
  return view;
}
