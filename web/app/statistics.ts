/**
 * The rows of the statistics table: which value each reads from a column's
 * statistics, how it is written, and a sentence that says what it means.
 *
 * Each quantity is written the way people read it: counts exactly, values in
 * the data's own units with six significant digits (never rounding away an
 * integer digit), shares of something as percentages, and ratios to a fixed
 * number of decimals. Pure (no DOM), so the browser tests format the API's
 * numbers with the same rules and compare them with what the page shows.
 *
 * @module
 */
import { formatInstant, formatNumber, formatPercent, formatRatio, MISSING } from "./format.ts";

/** How a statistic is written. */
export type StatisticKind =
  /** A count: exact integer. */
  | "count"
  /** In the data's units: six significant digits. */
  | "value"
  /** Already in percent (the API's `change_pct`). */
  | "percent"
  /** A fraction shown as a percentage (0.05 is 5.00%). */
  | "fraction"
  /** A dimensionless ratio, two decimals. */
  | "ratio"
  /** A coefficient between -1 and 1 (R squared, correlation), three decimals. */
  | "coefficient"
  /** An ISO-8601 instant. */
  | "instant";

/** One row of the table. */
export interface StatisticRow {
  /** Where the value is in a column's statistics: a field, or `field.sub`. */
  path: string;
  /** The row heading. */
  heading: string;
  /** How the value is written. */
  kind: StatisticKind;
  /** What it means, in a sentence (the row's tooltip); absent for the obvious ones. */
  tip?: string;
}

/** The rows, in order: today's statistics, then the analytics (issue 14). */
export const STATISTIC_ROWS: readonly StatisticRow[] = [
  { path: "count", heading: "Count", kind: "count" },
  { path: "missing", heading: "Missing", kind: "count" },
  { path: "min", heading: "Minimum", kind: "value" },
  { path: "max", heading: "Maximum", kind: "value" },
  { path: "mean", heading: "Mean", kind: "value" },
  { path: "stddev", heading: "Standard deviation", kind: "value" },
  { path: "p50", heading: "Median (p50)", kind: "value" },
  { path: "p90", heading: "90th percentile", kind: "value" },
  { path: "p99", heading: "99th percentile", kind: "value" },
  { path: "first", heading: "First", kind: "value" },
  { path: "last", heading: "Last", kind: "value" },
  { path: "change", heading: "Change", kind: "value" },
  { path: "change_pct", heading: "Change (%)", kind: "percent" },
  {
    path: "return_total",
    heading: "Total return",
    kind: "fraction",
    tip: "How much the last value is above or below the first, as a share of the first.",
  },
  {
    path: "cagr",
    heading: "Yearly growth (CAGR)",
    kind: "fraction",
    tip: "The steady yearly growth rate that turns the first value into the last one. " +
      "Only for spans of at least 30 days.",
  },
  {
    path: "volatility_annualized",
    heading: "Volatility (yearly)",
    kind: "fraction",
    tip: "How much the value typically moves, scaled to a year: the spread of its " +
      "log returns between points.",
  },
  {
    path: "max_drawdown.value",
    heading: "Worst fall",
    kind: "fraction",
    tip: "The deepest fall from a previous high to a later low (the maximum drawdown).",
  },
  {
    path: "max_drawdown.peak",
    heading: "Worst fall: from",
    kind: "instant",
    tip: "When the high before the worst fall was reached.",
  },
  {
    path: "max_drawdown.trough",
    heading: "Worst fall: to",
    kind: "instant",
    tip: "When the worst fall reached its low.",
  },
  {
    path: "max_drawdown.recovery",
    heading: "Worst fall: recovered",
    kind: "instant",
    tip: "When the value first got back to the earlier high; a dash if it has not yet.",
  },
  {
    path: "sharpe_like",
    heading: "Return per risk",
    kind: "ratio",
    tip: "The average return divided by how much returns vary, per year, with no " +
      "risk-free rate: like a Sharpe ratio, but not one.",
  },
  {
    path: "trend.slope_per_day",
    heading: "Trend per day",
    kind: "value",
    tip: "How much the best straight line through the values rises (or falls) per day.",
  },
  {
    path: "trend.r2",
    heading: "Trend fit (R\u00B2)",
    kind: "coefficient",
    tip: "How well that straight line fits: 1 is a perfect line, 0 no line at all.",
  },
  {
    path: "outliers",
    heading: "Outliers",
    kind: "count",
    tip: "Points far from the median: more than 3.5 robust standard deviations away " +
      "(by the median absolute deviation).",
  },
];

/**
 * The value at `path` (`trend.r2`) in a column's statistics: a number, an
 * ISO-8601 string, or null; undefined when the API did not send it (an
 * older server), so the page can leave the row out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { statisticValue } from "./statistics.ts";
 * assert.equal(statisticValue({ trend: { r2: 0.5 } }, "trend.r2"), 0.5);
 * assert.equal(statisticValue({ trend: null }, "trend.r2"), null);
 * assert.equal(statisticValue({}, "trend.r2"), undefined);
 * ```
 */
export function statisticValue(
  stats: Record<string, unknown>,
  path: string,
): number | string | null | undefined {
  let value: unknown = stats;
  for (const key of path.split(".")) {
    if (value === null) return null;
    if (typeof value !== "object" || !(key in value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (value === null || typeof value === "number" || typeof value === "string") return value;
  return undefined;
}

/**
 * A statistic as the table writes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatStatistic } from "./statistics.ts";
 * assert.equal(formatStatistic("count", 1_616_827, { locale: "en-US" }), "1,616,827");
 * assert.equal(formatStatistic("percent", -0.342295, { locale: "en-US" }), "-0.34%");
 * assert.equal(formatStatistic("fraction", 0.1234, { locale: "en-US" }), "12.34%");
 * assert.equal(formatStatistic("instant", "2020-03-23T00:00:00.000Z"), "2020-03-23");
 * assert.equal(formatStatistic("ratio", null), "\u2014");
 * ```
 */
export function formatStatistic(
  kind: StatisticKind,
  value: number | string | null | undefined,
  options: { locale?: string } = {},
): string {
  const { locale } = options;
  if (value === null || value === undefined) return MISSING;
  if (typeof value === "string") return kind === "instant" ? formatInstant(value) : value;
  switch (kind) {
    case "percent":
      return formatPercent(value / 100, locale);
    case "fraction":
      return formatPercent(value, locale);
    case "ratio":
      return formatRatio(value, { decimals: 2, locale });
    case "coefficient":
      return formatRatio(value, { decimals: 3, locale });
    default:
      return formatNumber(value, locale);
  }
}
