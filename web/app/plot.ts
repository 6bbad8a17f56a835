/// <reference lib="dom" />
/**
 * The uPlot pieces every chart on the page shares (the report's chart, its
 * drawdown, the comparison), so they read alike: one palette, one clock
 * (24-hour UTC on the axis and in the hover legend), and values written by
 * format.ts's rules.
 *
 * uPlot itself is loaded by its own `<script>` (a separately cached asset)
 * and found on `globalThis`; only its types are imported here.
 *
 * @module
 */
import type uPlot from "uplot";
import {
  formatAxisValue,
  formatInstant,
  formatNumber,
  formatPercent,
  formatTick,
  logTickLabel,
} from "./format.ts";

/** Colours that stay distinct for the common kinds of colour blindness (Okabe and Ito). */
export const PALETTE: readonly string[] = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#e69f00",
  "#56b4e9",
  "#000000",
];

/** The x axis: UTC ticks, as coarse as their spacing allows. */
export function timeAxis(): uPlot.Axis {
  return {
    space: 64,
    values: (_plot, splits, _axis, _space, increment) =>
      splits.map((split, index) => formatTick(split, { increment, first: index === 0 })),
  };
}

/** The legend's time column: 24-hour UTC, the same clock as the axis. */
export function timeSeries(): uPlot.Series {
  return {
    label: "Time (UTC)",
    value: (_plot, seconds) =>
      seconds === null ? "--" : formatInstant(new Date(seconds * 1000).toISOString()),
  };
}

/** uPlot's Date maker for UTC, so ticks are placed at UTC midnights and hours. */
export function utcDates(UPlot: typeof uPlot): (seconds: number) => Date {
  return (seconds) => UPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");
}

/**
 * A y axis whose values have the decimals their spacing needs, or are
 * percentages when the values are fractions (returns, drawdowns). On a log
 * scale the ticks are unevenly spaced, so each is written to its own
 * magnitude, and only the 1, 2 and 5 of each decade are labelled (the rest
 * would overlap).
 */
export function valueAxis(
  options: { percent?: boolean; log?: boolean; axis?: uPlot.Axis } = {},
): uPlot.Axis {
  return {
    ...options.axis,
    values: (_plot, splits, _axis, _space, increment) =>
      splits.map((value) => {
        if (options.percent) return formatPercent(value);
        if (!options.log) return formatAxisValue(value, { increment });
        return logTickLabel(value);
      }),
  };
}

/** How the hover legend writes a value: a dash for none, a percentage for a fraction. */
export function legendValue(percent = false): (plot: uPlot, value: number | null) => string {
  return (_plot, value) =>
    value === null ? "--" : percent ? formatPercent(value) : formatNumber(value);
}

/**
 * uPlot (loaded by its own script) from `globalThis`; throws when it did not
 * load.
 */
export function uPlotClass(): typeof uPlot {
  const constructor = (globalThis as unknown as { uPlot?: typeof uPlot }).uPlot;
  if (constructor === undefined) throw new Error("uPlot did not load");
  return constructor;
}
