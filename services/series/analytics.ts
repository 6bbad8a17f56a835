/**
 * Analytics of a cleaned series, the questions people otherwise open pandas
 * for: how much did it return, how volatile is it, how deep was the worst
 * fall, which way does it trend, how many outliers, how do columns move
 * together. Each number is defined below so that it can be checked against
 * pandas (tests/oracle/) and so that a reader knows what it means.
 *
 * A statistic that means nothing for a column is `null` with a reason in
 * `null_reasons`, never NaN or Infinity (JSON has neither).
 *
 * @module
 */

import { CompensatedSum } from "./compensated_sum.ts";
import { percentiles } from "./stats.ts";
import { formatTimestamp } from "./timestamps.ts";
import type {
  ColumnAnalytics,
  Correlation,
  MaxDrawdown,
  Series,
  SeriesAnalytics,
  Trend,
} from "./types.ts";

const DAY_MS = 86_400_000;
/** A Julian year: the average calendar year, leap years included. */
const YEAR_MS = 365.25 * DAY_MS;
/** Trading days in a year, the market convention for daily prices on weekdays. */
const TRADING_DAYS = 252;
/** Below this share of weekend points, daily data is taken as business-day data. */
const WEEKEND_SHARE_FOR_BUSINESS_DAYS = 0.02;
/** A CAGR over a shorter span extrapolates noise; it is null below this. */
const CAGR_MIN_DAYS = 30;
/** Iglewicz and Hoaglin's cut-off for the modified z-score. */
const OUTLIER_Z = 3.5;
/** The MAD of a normal distribution is 0.6745 sigma; this scales it to sigma. */
const MAD_TO_Z = 0.6745;
/** The correlation matrix costs O(columns^2 x rows); wider series get none. */
export const MAX_CORRELATION_COLUMNS = 32;
/** Fewer common points than this make a correlation meaningless. */
const MIN_CORRELATION_PAIRS = 3;

const NEEDS_POSITIVE = "Returns need positive values; this column has a value <= 0";

/**
 * How many periods a year holds at the series' median interval, used to
 * annualize volatility and the Sharpe-like ratio:
 *
 * - a median of exactly one day with under 2% of the points on a Saturday or
 *   Sunday (UTC) is business-day data (stock prices): 252;
 * - a median of 28 to 31 days is monthly data: 12;
 * - otherwise a Julian year (365.25 days) divided by the median interval
 *   (hourly data: 8,766; weekly: 52.18).
 *
 * Null below two points.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { periodsPerYear } from "./analytics.ts";
 * const hours = Float64Array.from({ length: 48 }, (_, i) => i * 3_600_000);
 * assert.equal(periodsPerYear(hours, 3_600_000), 8766);
 * ```
 */
export function periodsPerYear(
  timestamps: Float64Array,
  medianIntervalMs: number | null,
): number | null {
  if (medianIntervalMs === null || !(medianIntervalMs > 0)) return null;
  if (medianIntervalMs === DAY_MS) {
    let weekend = 0;
    for (let i = 0; i < timestamps.length; i++) {
      // The epoch was a Thursday (4); 0 is Sunday and 6 Saturday.
      const weekday = (((Math.floor(timestamps[i] / DAY_MS) + 4) % 7) + 7) % 7;
      if (weekday === 0 || weekday === 6) weekend++;
    }
    if (weekend < WEEKEND_SHARE_FOR_BUSINESS_DAYS * timestamps.length) return TRADING_DAYS;
  }
  if (medianIntervalMs >= 28 * DAY_MS && medianIntervalMs <= 31 * DAY_MS) return 12;
  return YEAR_MS / medianIntervalMs;
}

/** Options of {@linkcode analyzeSeries}. */
export interface AnalyzeOptions {
  /** The median interval between rows in ms (the summary has it); null below two rows. */
  medianIntervalMs: number | null;
  /**
   * Each column's median (the summary's `p50`), by name, to save selecting it
   * again: a quickselect over a million values is ~40% of the analytics' time.
   */
  medians?: Record<string, number | null>;
}

/**
 * Computes every analytic of a cleaned series (sorted, unique timestamps).
 *
 * Per column, on its present values in time order (a missing cell is
 * skipped, so a return spans it: pandas' `s.dropna().pct_change()`):
 * - `return_total`: `last / first - 1`;
 * - `cagr`: `(last / first) ^ (365.25 / days) - 1` where `days` is the time
 *   between the first and last present value; null below 30 days;
 * - `volatility_annualized`: sample stddev (n - 1) of the log returns
 *   `ln(v[i] / v[i-1])` x sqrt(periods per year) (see
 *   {@linkcode periodsPerYear}); needs two returns;
 * - `sharpe_like`: mean / sample stddev of the simple returns
 *   `v[i] / v[i-1] - 1`, x sqrt(periods per year), a zero risk-free rate. It
 *   is not a Sharpe ratio (no risk-free rate, no excess return), hence the name;
 * - `max_drawdown`: the lowest `v / running max - 1`; the peak is the first
 *   time the running max reached its value before the trough, the trough the
 *   first time the low was hit, the recovery the first later time the value
 *   got back to the peak's (null while it has not);
 * these five need every present value to be positive (a return through zero
 * means nothing);
 * - `trend`: least squares of the value against time in days; slope per day
 *   and R squared (null when the values are constant);
 * - `outliers`: points with `|0.6745 (v - median) / MAD| > 3.5`, the MAD being
 *   the median absolute deviation (Iglewicz and Hoaglin's modified z-score);
 *   null when the MAD is 0.
 *
 * Per series, `correlation`: Pearson's r of each pair of columns over the
 * rows where both are present (`DataFrame.corr(min_periods=3)`), null where
 * fewer than 3 such rows or a column is constant on them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { analyzeSeries } from "./analytics.ts";
 * const day = 86_400_000;
 * const analytics = analyzeSeries({
 *   timestamps: Float64Array.from({ length: 5 }, (_, i) => i * day),
 *   names: ["price"],
 *   columns: [new Float64Array([100, 120, 90, 110, 130])],
 * }, { medianIntervalMs: day });
 * const price = analytics.columns.price;
 * assert.equal(price.return_total, 0.30000000000000004);
 * assert.equal(price.max_drawdown?.value, -0.25);
 * assert.equal(price.max_drawdown?.recovery, "1970-01-05T00:00:00.000Z");
 * assert.equal(price.cagr, null);
 * assert.match(price.null_reasons.cagr, /30 days/);
 * ```
 */
export function analyzeSeries(series: Series, options: AnalyzeOptions): SeriesAnalytics {
  const perYear = periodsPerYear(series.timestamps, options.medianIntervalMs);
  const columns: Record<string, ColumnAnalytics> = {};
  series.names.forEach((name, index) => {
    columns[name] = analyzeColumn(series.timestamps, series.columns[index], {
      perYear,
      median: options.medians?.[name] ?? undefined,
    });
  });
  const nullReasons: Record<string, string> = {};
  let correlation: Correlation | null = null;
  if (series.names.length > MAX_CORRELATION_COLUMNS) {
    nullReasons.correlation = `Computed for at most ${MAX_CORRELATION_COLUMNS} columns ` +
      `(this series has ${series.names.length})`;
  } else {
    correlation = correlationMatrix(series);
  }
  const result: SeriesAnalytics = {
    periods_per_year: perYear,
    columns,
    correlation,
    null_reasons: nullReasons,
  };
  if (perYear === null) nullReasons.periods_per_year = "Needs at least two points";
  return result;
}

/** The analytics of one column; see {@linkcode analyzeSeries}. */
function analyzeColumn(
  timestamps: Float64Array,
  column: Float64Array,
  known: { perYear: number | null; median?: number },
): ColumnAnalytics {
  const { perYear } = known;
  // The present values and their times, in time order.
  let count = 0;
  let allPositive = true;
  for (let i = 0; i < column.length; i++) {
    const value = column[i];
    if (value !== value) continue;
    count++;
    if (!(value > 0)) allPositive = false;
  }
  // A column without gaps (the common case) is used as it is: no copy.
  let values = column;
  let times = timestamps;
  if (count < column.length) {
    values = new Float64Array(count);
    times = new Float64Array(count);
    for (let i = 0, at = 0; i < column.length; i++) {
      if (column[i] !== column[i]) continue;
      values[at] = column[i];
      times[at++] = timestamps[i];
    }
  }
  const reasons: Record<string, string> = {};
  const result: ColumnAnalytics = {
    return_total: null,
    cagr: null,
    volatility_annualized: null,
    max_drawdown: null,
    sharpe_like: null,
    trend: null,
    outliers: null,
    null_reasons: reasons,
  };
  if (count < 2) {
    for (const key of RETURN_STATISTICS) reasons[key] = "Needs at least two values";
    reasons.trend = "Needs at least two values";
  } else if (!allPositive) {
    for (const key of RETURN_STATISTICS) reasons[key] = NEEDS_POSITIVE;
  } else {
    returnStatistics(values, times, perYear, result);
  }
  if (count >= 2) result.trend = trend(values, times, reasons);
  result.outliers = countOutliers(values, known.median, reasons);
  return result;
}

const RETURN_STATISTICS = [
  "return_total",
  "cagr",
  "volatility_annualized",
  "max_drawdown",
  "sharpe_like",
] as const;

/** Fills the statistics of positive values (at least two of them). */
function returnStatistics(
  values: Float64Array,
  times: Float64Array,
  perYear: number | null,
  result: ColumnAnalytics,
): void {
  const reasons = result.null_reasons;
  const n = values.length;
  const first = values[0];
  const last = values[n - 1];
  const growth = last / first;
  result.return_total = finite(growth - 1, "return_total", reasons);

  const days = (times[n - 1] - times[0]) / DAY_MS;
  if (days < CAGR_MIN_DAYS) {
    reasons.cagr = `The span (${round(days)} days) is shorter than ${CAGR_MIN_DAYS} days`;
  } else {
    result.cagr = finite(Math.pow(growth, 365.25 / days) - 1, "cagr", reasons);
  }

  if (n < 3) {
    reasons.volatility_annualized = "Needs at least two returns (three values)";
    reasons.sharpe_like = "Needs at least two returns (three values)";
  } else if (perYear === null) {
    reasons.volatility_annualized = "The interval between points is unknown";
    reasons.sharpe_like = "The interval between points is unknown";
  } else {
    const scale = Math.sqrt(perYear);
    const { logMoments, simpleMoments } = returnMoments(values);
    result.volatility_annualized = finite(
      logMoments.stddev * scale,
      "volatility_annualized",
      reasons,
    );
    if (simpleMoments.stddev === 0) {
      reasons.sharpe_like = "The returns are constant (zero standard deviation)";
    } else {
      result.sharpe_like = finite(
        simpleMoments.mean / simpleMoments.stddev * scale,
        "sharpe_like",
        reasons,
      );
    }
  }
  result.max_drawdown = maxDrawdown(values, times);
}

/** Mean and sample stddev (n - 1) of a stream, by Welford's method. */
class Moments {
  count = 0;
  mean = 0;
  #squares = 0;

  add(value: number): void {
    this.count++;
    const delta = value - this.mean;
    this.mean += delta / this.count;
    this.#squares += delta * (value - this.mean);
  }

  get stddev(): number {
    return Math.sqrt(this.#squares / (this.count - 1));
  }
}

/**
 * Moments of the log returns and the simple returns in one pass, without
 * storing either: Welford's updates are stable to ~1e-15 relative here (the
 * oracle agrees to 1e-9), and skipping two arrays of n doubles and a second
 * pass saves about half of the analytics' time on a million values.
 */
function returnMoments(values: Float64Array): { logMoments: Moments; simpleMoments: Moments } {
  const logMoments = new Moments();
  const simpleMoments = new Moments();
  for (let i = 1; i < values.length; i++) {
    const ratio = values[i] / values[i - 1];
    logMoments.add(Math.log(ratio));
    simpleMoments.add(ratio - 1);
  }
  return { logMoments, simpleMoments };
}

function maxDrawdown(values: Float64Array, times: Float64Array): MaxDrawdown {
  let peak = 0;
  let worst = 0;
  let worstPeak = -1;
  let trough = -1;
  for (let i = 1; i < values.length; i++) {
    // Strictly greater: the peak is the first time the running max was reached.
    if (values[i] > values[peak]) peak = i;
    const drawdown = values[i] / values[peak] - 1;
    if (drawdown < worst) {
      worst = drawdown;
      worstPeak = peak;
      trough = i;
    }
  }
  if (trough === -1) return { value: 0, peak: null, trough: null, recovery: null };
  let recovery: string | null = null;
  for (let i = trough + 1; i < values.length; i++) {
    if (values[i] >= values[worstPeak]) {
      recovery = formatTimestamp(times[i]);
      break;
    }
  }
  return {
    value: worst,
    peak: formatTimestamp(times[worstPeak]),
    trough: formatTimestamp(times[trough]),
    recovery,
  };
}

/**
 * Least squares of value against days since the first point. Centred sums
 * (two passes) keep the precision that the textbook one-pass formula loses
 * when timestamps are large beside their spread.
 */
function trend(
  values: Float64Array,
  times: Float64Array,
  reasons: Record<string, string>,
): Trend | null {
  const n = values.length;
  const sumX = new CompensatedSum();
  const sumY = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    sumX.add((times[i] - times[0]) / DAY_MS);
    sumY.add(values[i]);
  }
  const meanX = sumX.value / n;
  const meanY = sumY.value / n;
  const sxx = new CompensatedSum();
  const sxy = new CompensatedSum();
  const syy = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    const dx = (times[i] - times[0]) / DAY_MS - meanX;
    const dy = values[i] - meanY;
    sxx.add(dx * dx);
    sxy.add(dx * dy);
    syy.add(dy * dy);
  }
  const slope = sxy.value / sxx.value;
  if (!Number.isFinite(slope)) {
    reasons.trend = "The values overflow the double range";
    return null;
  }
  if (syy.value === 0) {
    reasons["trend.r2"] = "The values are constant";
    return { slope_per_day: slope, r2: null };
  }
  const r2 = sxy.value * sxy.value / (sxx.value * syy.value);
  return { slope_per_day: slope, r2: Number.isFinite(r2) ? Math.min(1, r2) : null };
}

function countOutliers(
  values: Float64Array,
  knownMedian: number | undefined,
  reasons: Record<string, string>,
): number | null {
  if (values.length === 0) {
    reasons.outliers = "The column has no values";
    return null;
  }
  const median = knownMedian ?? percentiles(values.slice(), [0.5])[0];
  const deviations = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) deviations[i] = Math.abs(values[i] - median);
  const [mad] = percentiles(deviations, [0.5]);
  if (!(mad > 0) || !Number.isFinite(mad)) {
    reasons.outliers = "The median absolute deviation is 0 (over half the values are equal)";
    return null;
  }
  let outliers = 0;
  for (let i = 0; i < values.length; i++) {
    if (Math.abs(MAD_TO_Z * (values[i] - median) / mad) > OUTLIER_Z) outliers++;
  }
  return outliers;
}

function correlationMatrix(series: Series): Correlation {
  const k = series.names.length;
  const matrix: (number | null)[][] = Array.from({ length: k }, () => new Array(k).fill(null));
  for (let a = 0; a < k; a++) {
    // A column correlates perfectly with itself, if it varies at all.
    matrix[a][a] = varies(series.columns[a]) ? 1 : null;
    for (let b = a + 1; b < k; b++) {
      const r = pearson(series.columns[a], series.columns[b]);
      matrix[a][b] = r;
      matrix[b][a] = r;
    }
  }
  return { columns: [...series.names], matrix };
}

/** At least 3 present values, not all equal: what a defined r needs. */
function varies(values: Float64Array): boolean {
  let count = 0;
  let first = NaN;
  let differs = false;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value !== value) continue;
    if (count++ === 0) first = value;
    else if (value !== first) differs = true;
  }
  return count >= MIN_CORRELATION_PAIRS && differs;
}

/** Pearson's r over rows where both are present (two passes); null when undefined. */
function pearson(x: Float64Array, y: Float64Array): number | null {
  let n = 0;
  const sumX = new CompensatedSum();
  const sumY = new CompensatedSum();
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== x[i] || y[i] !== y[i]) continue;
    n++;
    sumX.add(x[i]);
    sumY.add(y[i]);
  }
  if (n < MIN_CORRELATION_PAIRS) return null;
  const meanX = sumX.value / n;
  const meanY = sumY.value / n;
  const sxx = new CompensatedSum();
  const syy = new CompensatedSum();
  const sxy = new CompensatedSum();
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== x[i] || y[i] !== y[i]) continue;
    const dx = x[i] - meanX;
    const dy = y[i] - meanY;
    sxx.add(dx * dx);
    syy.add(dy * dy);
    sxy.add(dx * dy);
  }
  const r = sxy.value / Math.sqrt(sxx.value * syy.value);
  // Rounding can push |r| a hair above 1.
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : null;
}

function finite(value: number, name: string, reasons: Record<string, string>): number | null {
  if (Number.isFinite(value)) return value;
  reasons[name] = "The result overflows the double range";
  return null;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
