/**
 * What the chart asks the series endpoint for, decided without a DOM: the
 * whole series downsampled to the chart's width, or a zoomed range at full
 * resolution when it holds few enough points (see chart.ts).
 *
 * @module
 */

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

/** The series URL for a plan. */
export function seriesUrl(reportId: string, plan: SeriesPlan): string {
  const query = new URLSearchParams({ format: "uplot" });
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
  return columns.find((column) => column.toLowerCase() === "volume");
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
