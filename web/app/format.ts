/**
 * How the page writes numbers, times and durations. Pure functions: the
 * browser tests call them too, to check that the page shows exactly the
 * values the API returned.
 *
 * Times are shown in UTC, as the API stores and returns them, so a table, the
 * chart axis and a downloaded CSV always agree.
 *
 * @module
 */

/** What an absent value looks like (an em dash). */
export const MISSING = "\u2014";

/**
 * A number for reading, grouped in the reader's locale; `null` (no value) is
 * a dash. Integers are shown exactly, however large (a count of 1,616,827
 * rows, a volume of 3,382,703): rounding them would make the page disagree
 * with the data. Other numbers keep six significant digits, but never lose a
 * digit of their integer part (3,382,703.4 reads "3,382,703", not
 * "3,382,700").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNumber, MISSING } from "./format.ts";
 * assert.equal(formatNumber(1_616_827, "en-US"), "1,616,827");
 * assert.equal(formatNumber(1234567.891, "en-US"), "1,234,568");
 * assert.equal(formatNumber(280.4567891, "en-US"), "280.457");
 * assert.equal(formatNumber(0.000123456789, "en-US"), "0.000123457");
 * assert.equal(formatNumber(null, "en-US"), MISSING);
 * ```
 */
export function formatNumber(value: number | null, locale?: string): string {
  if (value === null) return MISSING;
  if (Number.isInteger(value)) {
    return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value);
  }
  const integerDigits = Math.abs(value) < 1 ? 0 : Math.floor(Math.log10(Math.abs(value))) + 1;
  return new Intl.NumberFormat(locale, {
    maximumSignificantDigits: Math.min(21, Math.max(6, integerDigits)),
  }).format(value);
}

/**
 * A fraction as a percentage (0.0342 is "3.42%"): two decimals, or two
 * significant digits for a share too small for two decimals to show.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPercent, MISSING } from "./format.ts";
 * assert.equal(formatPercent(-0.00342295, "en-US"), "-0.34%");
 * assert.equal(formatPercent(1.5, "en-US"), "150.00%");
 * assert.equal(formatPercent(0.0000123, "en-US"), "0.0012%");
 * assert.equal(formatPercent(0, "en-US"), "0.00%");
 * assert.equal(formatPercent(null, "en-US"), MISSING);
 * ```
 */
export function formatPercent(fraction: number | null, locale?: string): string {
  if (fraction === null) return MISSING;
  const tiny = fraction !== 0 && Math.abs(fraction) < 0.0001;
  return new Intl.NumberFormat(
    locale,
    tiny
      ? { style: "percent", maximumSignificantDigits: 2 }
      : { style: "percent", minimumFractionDigits: 2, maximumFractionDigits: 2 },
  ).format(fraction);
}

/**
 * A dimensionless ratio (a correlation, an R squared, a Sharpe-like ratio) to a
 * fixed number of decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRatio } from "./format.ts";
 * assert.equal(formatRatio(0.987654, { decimals: 3, locale: "en-US" }), "0.988");
 * assert.equal(formatRatio(-1.2, { decimals: 2, locale: "en-US" }), "-1.20");
 * ```
 */
export function formatRatio(
  value: number | null,
  options: { decimals: number; locale?: string },
): string {
  if (value === null) return MISSING;
  return new Intl.NumberFormat(options.locale, {
    minimumFractionDigits: options.decimals,
    maximumFractionDigits: options.decimals,
  }).format(value);
}

/**
 * A value on a y axis: as many decimals as the spacing of the ticks needs
 * (ticks 0.25 apart read "0.25", "0.5", not "0.3"), and large values compact
 * ("2.5M") so the axis stays narrow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatAxisValue } from "./format.ts";
 * assert.equal(formatAxisValue(0.25, { increment: 0.25, locale: "en-US" }), "0.25");
 * assert.equal(formatAxisValue(-1_800, { increment: 200, locale: "en-US" }), "-1,800");
 * assert.equal(formatAxisValue(2_500_000, { increment: 500_000, locale: "en-US" }), "2.5M");
 * ```
 */
export function formatAxisValue(
  value: number,
  options: { increment: number; locale?: string },
): string {
  if (Math.abs(value) >= 100_000) return formatCompact(value, options.locale);
  const decimals = decimalsOf(options.increment);
  return new Intl.NumberFormat(options.locale, {
    minimumFractionDigits: 0,
    maximumFractionDigits: Math.min(20, decimals),
  }).format(value);
}

/** Digits after the decimal point that `value` needs (0.25 needs 2), up to 12. */
function decimalsOf(value: number): number {
  if (!Number.isFinite(value) || value === 0) return 0;
  const text = Math.abs(value).toFixed(12).replace(/0+$/, "");
  const point = text.indexOf(".");
  return point === -1 ? 0 : text.length - point - 1;
}

/**
 * A large axis value in a few characters ("2.5M"), for the volume axis.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatCompact } from "./format.ts";
 * assert.equal(formatCompact(2_500_000, "en-US"), "2.5M");
 * ```
 */
export function formatCompact(value: number, locale?: string): string {
  return new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 })
    .format(value);
}

/**
 * An ISO-8601 instant in UTC: the date alone at midnight, otherwise date and
 * time to the second (milliseconds when there are any).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatInstant } from "./format.ts";
 * assert.equal(formatInstant("2020-01-10T00:00:00.000Z"), "2020-01-10");
 * assert.equal(formatInstant("2020-01-10T09:30:00.000Z"), "2020-01-10 09:30:00 UTC");
 * assert.equal(formatInstant("2020-01-10T09:30:00.250Z"), "2020-01-10 09:30:00.250 UTC");
 * ```
 */
export function formatInstant(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString();
  if (text.endsWith("T00:00:00.000Z")) return text.slice(0, 10);
  const seconds = text.endsWith(".000Z") ? text.slice(11, 19) : text.slice(11, 23);
  return `${text.slice(0, 10)} ${seconds} UTC`;
}

const UNITS: [name: string, seconds: number][] = [
  ["d", 86_400],
  ["h", 3_600],
  ["min", 60],
  ["s", 1],
];

/**
 * A duration in at most two units ("3 d 4 h", "1 min 30 s"); below a second,
 * in milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./format.ts";
 * assert.equal(formatDuration(86_400), "1 d");
 * assert.equal(formatDuration(273_600), "3 d 4 h");
 * assert.equal(formatDuration(90), "1 min 30 s");
 * assert.equal(formatDuration(0.25), "250 ms");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [name, size] of UNITS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    } else if (parts.length > 0) {
      // Units are consecutive: "1 d 0 h 5 min" reads better as just "1 d".
      break;
    }
  }
  return parts.join(" ");
}

const DAY = 86_400;

/**
 * A label for a tick on the time axis, in UTC, as coarse as the spacing of
 * the ticks allows. The first tick also carries the year (or the date, for
 * ticks within a day) on a second line, so every label can be placed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTick } from "./format.ts";
 * const march14 = Date.UTC(2020, 2, 14, 9, 30) / 1000;
 * const weekly = { increment: 7 * 86_400, locale: "en-US" };
 * assert.equal(formatTick(march14, weekly), "Mar 14");
 * assert.equal(formatTick(march14, { ...weekly, first: true }), "Mar 14\n2020");
 * assert.equal(formatTick(march14, { increment: 31 * 86_400, locale: "en-US" }), "Mar 2020");
 * assert.equal(formatTick(march14, { increment: 3_600 }), "09:30");
 * assert.equal(formatTick(march14, { increment: 3_600, first: true }), "09:30\n2020-03-14");
 * assert.equal(formatTick(march14, { increment: 5 }), "09:30:00");
 * ```
 */
export function formatTick(
  seconds: number,
  options: { increment: number; first?: boolean; locale?: string },
): string {
  const date = new Date(seconds * 1000);
  const iso = date.toISOString();
  const { increment, first = false, locale } = options;
  const utc = (format: Intl.DateTimeFormatOptions): string =>
    new Intl.DateTimeFormat(locale, { ...format, timeZone: "UTC" }).format(date);
  if (increment >= 365 * DAY - DAY) return iso.slice(0, 4);
  if (increment >= 28 * DAY) return utc({ month: "short", year: "numeric" });
  if (increment >= DAY) {
    const day = utc({ month: "short", day: "numeric" });
    return first ? `${day}\n${iso.slice(0, 4)}` : day;
  }
  const time = increment >= 60 ? iso.slice(11, 16) : iso.slice(11, 19);
  return first ? `${time}\n${iso.slice(0, 10)}` : time;
}

/**
 * A count with its noun, singular or plural.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plural } from "./format.ts";
 * assert.equal(plural(1, "row"), "1 row");
 * assert.equal(plural(1200, "row", "en-US"), "1,200 rows");
 * ```
 */
export function plural(count: number, noun: string, locale?: string): string {
  const number = new Intl.NumberFormat(locale).format(count);
  return `${number} ${count === 1 ? noun : `${noun}s`}`;
}

/**
 * A log-scale tick's label: the value to its own magnitude when it is a 1,
 * 2 or 5 of its decade, else nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logTickLabel } from "./format.ts";
 * assert.equal(logTickLabel(0.2, { locale: "en-US" }), "0.2");
 * assert.equal(logTickLabel(0.7, { locale: "en-US" }), "");
 * assert.equal(logTickLabel(5000, { locale: "en-US" }), "5,000");
 * ```
 */
export function logTickLabel(value: number, options: { locale?: string } = {}): string {
  if (!(value > 0)) return "";
  const magnitude = 10 ** Math.floor(Math.log10(value) + 1e-9);
  const leading = Math.round(value / magnitude);
  if (leading !== 1 && leading !== 2 && leading !== 5) return "";
  return formatAxisValue(value, { increment: magnitude, locale: options.locale });
}
