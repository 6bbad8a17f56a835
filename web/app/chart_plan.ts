/**
 * What the chart asks the series endpoint for, decided without a DOM: the
 * whole series downsampled to the chart's width, or a zoomed range at full
 * resolution when it holds few enough points (see chart.ts).
 *
 * @module
 */
import { type ChartView, viewQuery } from "./view_state.ts";

/** Estimated points in the visible range at or below which it is fetched unsampled. */
export const FULL_RESOLUTION_MAX = 10_000;

/** A range on the time axis, in epoch seconds. */
export interface TimeRange {
  /** Start, inclusive. */
  min: number;
  /** End, inclusive. */
  max: number;
}

/** What to ask the series endpoint for. */
export interface SeriesPlan {
  /** Inclusive start (ISO-8601), absent for the whole series. */
  from?: string;
  /** Inclusive end (ISO-8601), absent for the whole series. */
  to?: string;
  /** Downsample to this many points; absent for full resolution. */
  points?: number;
}

/** What the plan is based on. */
export interface PlanContext {
  /** The whole series' range. */
  full: TimeRange;
  /** Points in the whole series. */
  totalPoints: number;
  /** The median spacing of points (s), to pad a zoomed range past its edges. */
  intervalSeconds: number | null;
  /** The plot's width in CSS pixels. */
  width: number;
}

/**
 * Decides what to fetch for the `visible` range. The whole range is the
 * overview (downsampled to the width). A zoomed range is padded a little, so
 * lines run on to the plot's edges, and fetched unsampled when the estimated
 * number of points in it (assuming evenly spread points) is at most
 * {@linkcode FULL_RESOLUTION_MAX}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSeries } from "./chart_plan.ts";
 * const full = { min: 0, max: 1_000_000 };
 * const context = { full, totalPoints: 5_000_000, intervalSeconds: 0.2, width: 800 };
 * assert.deepEqual(planSeries({ min: 0, max: 1_000_000 }, context), { points: 800 });
 * // 1% of the span is about 50,000 points: still downsampled, but only that range.
 * assert.equal(planSeries({ min: 400_000, max: 410_000 }, context).points, 800);
 * // 0.1% is about 5,000 points: full resolution.
 * assert.equal(planSeries({ min: 400_000, max: 401_000 }, context).points, undefined);
 * ```
 */
export function planSeries(visible: TimeRange, context: PlanContext): SeriesPlan {
  const points = Math.max(3, Math.round(context.width));
  const { full } = context;
  if (visible.min <= full.min && visible.max >= full.max) return { points };
  const span = Math.max(visible.max - visible.min, 1e-3);
  const pad = Math.max(span * 0.02, 2 * (context.intervalSeconds ?? 0));
  const min = Math.max(full.min, visible.min - pad);
  const max = Math.min(full.max, visible.max + pad);
  const fullSpan = full.max - full.min;
  const estimate = fullSpan > 0 ? context.totalPoints * ((max - min) / fullSpan) : 0;
  const range = { from: isoSeconds(min), to: isoSeconds(max) };
  return estimate <= FULL_RESOLUTION_MAX ? range : { ...range, points };
}

/**
 * The series URL for a plan, with the view's resampling and transform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seriesUrl } from "./chart_plan.ts";
 * assert.equal(
 *   seriesUrl("id", { points: 800 }, { every: "1h", agg: "ohlc" }),
 *   "/v1/reports/id/series?format=uplot&every=1h&agg=ohlc&points=800",
 * );
 * ```
 */
export function seriesUrl(reportId: string, plan: SeriesPlan, view: ChartView = {}): string {
  const query = new URLSearchParams({ format: "uplot" });
  for (const [name, value] of viewQuery(view)) query.set(name, value);
  if (plan.from !== undefined) query.set("from", plan.from);
  if (plan.to !== undefined) query.set("to", plan.to);
  if (plan.points !== undefined) query.set("points", String(plan.points));
  return `/v1/reports/${encodeURIComponent(reportId)}/series?${query}`;
}

/**
 * Which column goes on the second (right-hand) axis: `volume`, in any case,
 * when there is something else to share the left axis with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secondAxisColumn } from "./chart_plan.ts";
 * assert.equal(secondAxisColumn(["open", "close", "Volume"]), "Volume");
 * assert.equal(secondAxisColumn(["volume"]), undefined);
 * ```
 */
export function secondAxisColumn(columns: string[]): string | undefined {
  if (columns.length < 2) return undefined;
  return columns.find(isVolume);
}

/** Columns whose ranges differ by more than this factor get separate y axes. */
export const SCALE_FACTOR = 10;

/** The smallest and largest value of a column in what is drawn; null when it has none. */
export type ValueRange = { min: number; max: number } | null;

/**
 * Groups columns that can share a y axis, so no column is drawn as a flat
 * line beside one of a much larger scale: a column joins the first group
 * whose range, widened by it, is at most {@linkcode SCALE_FACTOR} times the
 * narrower of the two (so each line spans at least a tenth of its axis).
 * `volume` (by name) always has an axis of its own: it is drawn as bars from
 * zero. Columns without values join the first group. Returns the groups as
 * lists of column indices, in the order their first column appears.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaleGroups } from "./chart_plan.ts";
 * const price = { min: 270, max: 300 };
 * assert.deepEqual(
 *   scaleGroups(["open", "close", "volume"], [price, { min: 275, max: 305 }, { min: 1e6, max: 4e6 }]),
 *   [[0, 1], [2]],
 * );
 * // A 0 to 1 column beside one from -1,800 to 500: two axes.
 * assert.deepEqual(scaleGroups(["a", "b"], [{ min: 0, max: 1 }, { min: -1800, max: 500 }]), [[0], [1]]);
 * ```
 */
export function scaleGroups(columns: string[], ranges: ValueRange[]): number[][] {
  const groups: Group[] = [];
  columns.forEach((column, index) => {
    const range = ranges[index] ?? null;
    const bars = columns.length > 1 && isVolume(column);
    const home = bars ? undefined : groups.find((group) => !group.bars && fits(group, range));
    if (home === undefined) {
      groups.push({
        members: [index],
        range,
        narrowest: range === null ? Infinity : span(range),
        bars,
      });
    } else {
      home.members.push(index);
      home.range = union(home.range, range);
      if (range !== null) home.narrowest = Math.min(home.narrowest, span(range));
    }
  });
  return groups.map((group) => group.members);
}

/** A y axis being filled: its columns, their joint range and the narrowest one's height. */
interface Group {
  members: number[];
  range: ValueRange;
  narrowest: number;
  bars: boolean;
}

/** Whether `column` can join `group` with every member still spanning 1/SCALE_FACTOR of it. */
function fits(group: Group, column: ValueRange): boolean {
  if (group.range === null || column === null) return true;
  const widened = union(group.range, column)!;
  return span(widened) <= SCALE_FACTOR * Math.min(group.narrowest, span(column));
}

function union(a: ValueRange, b: ValueRange): ValueRange {
  if (a === null) return b;
  if (b === null) return a;
  return { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

/** A range's height; a constant column counts as 1% of its magnitude, so it can still join. */
function span(range: { min: number; max: number }): number {
  const height = range.max - range.min;
  return height > 0 ? height : Math.max(Math.abs(range.max) * 0.01, Number.MIN_VALUE);
}

/**
 * Each column's range in uPlot data (`[times, column1, ...]`), skipping
 * missing values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { columnRanges } from "./chart_plan.ts";
 * assert.deepEqual(columnRanges([[1, 2, 3], [5, null, -1], [null, null, null]]), [
 *   { min: -1, max: 5 },
 *   null,
 * ]);
 * ```
 */
export function columnRanges(data: (number | null)[][]): ValueRange[] {
  return data.slice(1).map((values) => {
    let min = Infinity;
    let max = -Infinity;
    for (const value of values) {
      if (value === null || !Number.isFinite(value)) continue;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return min <= max ? { min, max } : null;
  });
}

/** A gap the report found, in epoch seconds. */
export interface GapSpan {
  /** The last point before the gap. */
  from: number;
  /** The first point after it. */
  to: number;
}

/**
 * Breaks the lines at gaps: inserts a row of nulls (uPlot does not join a
 * line across a null) between two neighbouring points that enclose one of
 * the report's gaps, and, when `thresholdSeconds` is given, between any two
 * points further apart than it. The threshold is only right for the points
 * as stored: downsampled or resampled points are further apart than the
 * stored ones without a gap between them, so for those only the listed gaps
 * count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { breakAtGaps } from "./chart_plan.ts";
 * const data = [[0, 60, 600, 660], [1, 2, 3, 4]];
 * assert.deepEqual(breakAtGaps(data, { gaps: [{ from: 60, to: 600 }] }), [
 *   [0, 60, 330, 600, 660],
 *   [1, 2, null, 3, 4],
 * ]);
 * assert.deepEqual(breakAtGaps(data, { gaps: [], thresholdSeconds: 180 })[1], [1, 2, null, 3, 4]);
 * ```
 */
export function breakAtGaps<T extends (number | null)[][]>(
  data: T,
  options: { gaps: GapSpan[]; thresholdSeconds?: number | null },
): T {
  const times = data[0] as number[];
  const threshold = options.thresholdSeconds ?? Infinity;
  const gaps = [...options.gaps].sort((a, b) => a.from - b.from);
  const breaks: number[] = [];
  let next = 0;
  for (let i = 0; i + 1 < times.length; i++) {
    const left = times[i];
    const right = times[i + 1];
    while (next < gaps.length && gaps[next].to <= left) next++;
    const enclosed = next < gaps.length && gaps[next].from >= left && gaps[next].to <= right;
    if (enclosed || right - left > threshold) breaks.push(i);
  }
  if (breaks.length === 0) return data;
  return data.map((values, column) => {
    const out: (number | null)[] = [];
    let at = 0;
    for (const index of breaks) {
      for (; at <= index; at++) out.push(values[at]);
      out.push(column === 0 ? (times[index] + times[index + 1]) / 2 : null);
    }
    for (; at < values.length; at++) out.push(values[at]);
    return out;
  }) as T;
}

/**
 * The columns to draw a drawdown for. A column is price-like when every one
 * of its values is positive (a fall from the running maximum is then a
 * share of it, between 0 and -100%) and it is not `volume` (a fall in
 * traded volume is no loss). When a `close` column is price-like it is the
 * one that matters (open, high and low would draw the same story four
 * times); otherwise every price-like column.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { priceLikeColumns } from "./chart_plan.ts";
 * const stats = (min: number) => ({ min });
 * assert.deepEqual(
 *   priceLikeColumns({ open: stats(1), close: stats(2), volume: stats(5) }),
 *   ["close"],
 * );
 * assert.deepEqual(priceLikeColumns({ a: stats(1), b: stats(-1) }), ["a"]);
 * assert.deepEqual(priceLikeColumns({ b: stats(0) }), []);
 * ```
 */
export function priceLikeColumns(columns: Record<string, { min: number | null }>): string[] {
  const positive = Object.keys(columns).filter((column) => {
    const min = columns[column].min;
    return min !== null && min > 0 && !isVolume(column);
  });
  const close = positive.find((column) => /^(adj[ _]?)?close$/i.test(column));
  return close === undefined ? positive : [close];
}

function isVolume(column: string): boolean {
  return column.toLowerCase() === "volume";
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
