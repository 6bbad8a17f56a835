/**
 * Timestamp parsing and formatting.
 *
 * Accepted forms:
 * - an ISO-8601 date, `2020-01-10` (UTC midnight);
 * - an ISO-8601 date-time with a zone: `2020-01-10T12:30Z`, `2020-01-10T12:30:45+02:00`,
 *   `2020-01-10 12:30:45.123-0500` (`T` or a space; any number of fraction digits);
 * - a Unix epoch number (a JSON number or a numeric string): seconds, or milliseconds when
 *   its magnitude is at least 1e11 (1e11 s is year 5138, 1e11 ms is 1973).
 *
 * A date-time without a zone is rejected rather than guessed: the server's zone is
 * meaningless to the uploader. Parsing is hand-written because `Date.parse` accepts
 * many non-ISO forms, assumes local time for some, and is slow on millions of rows.
 * Results are whole milliseconds between 0000-01-01 and 9999-12-31 so that every
 * accepted instant formats back to a four-digit-year ISO string that parses again.
 *
 * @module
 */

import { INVALID_NUMBER, numberInRange, type TextRange } from "./numbers.ts";
import type { ZoneConverter } from "./time_formats.ts";

/** Options of {@linkcode timestampInRange} and {@linkcode explainTimestamp}. */
export interface ZoneOptions {
  /**
   * Reads date-times without an offset as wall-clock times of this zone
   * instead of rejecting them. Dates without a time stay UTC midnight: a
   * date names a day, and a daily series should stay on day boundaries.
   */
  zone?: ZoneConverter;
}

const NO_ZONE: ZoneOptions = {};

/** The outcome of {@linkcode parseTimestamp}. */
export type TimestampResult =
  | { ok: true; ms: number }
  | { ok: false; reason: string };

/** Epoch milliseconds of 0000-01-01T00:00:00.000Z, the earliest accepted instant. */
export const MIN_TIMESTAMP_MS = -62167219200000;
/** Epoch milliseconds of 9999-12-31T23:59:59.999Z, the latest accepted instant. */
export const MAX_TIMESTAMP_MS = 253402300799999;

/** Epoch numbers at least this large (in magnitude) are milliseconds, smaller ones seconds. */
const EPOCH_MS_THRESHOLD = 1e11;
const MS_PER_DAY = 86_400_000;

const SPACE = 32;
const TAB = 9;
const DASH = 45;
const PLUS = 43;
const COLON = 58;
const DOT = 46;
const ZERO = 48;
const UPPER_T = 84;
const LOWER_T = 116;
const UPPER_Z = 90;
const LOWER_Z = 122;

const NOT_A_TIMESTAMP = "Not an ISO-8601 date or date-time, or a Unix epoch number";
const EMPTY = "Timestamp is empty";
const NEEDS_ZONE = "Date-time needs Z or an offset";
const OUT_OF_RANGE = "Timestamp is outside the years 0000 to 9999";
const BAD_MONTH = "Month must be 01 to 12";
const BAD_HOUR = "Hour must be 00 to 23";
const BAD_MINUTE = "Minute must be 00 to 59";
const BAD_SECOND = "Second must be 00 to 59";
const BAD_OFFSET = "Offset must be +HH:MM or +HHMM with hours 00 to 23 and minutes 00 to 59";
const WRONG_TYPE = "Timestamp must be a string or a number";

/**
 * Why the last parse failed. A module-level slot (like `errno`) keeps
 * the hot path free of result objects; it is only read right after a failure.
 */
let lastFailure = NOT_A_TIMESTAMP;

/** Scratch range for the trimmed cell, reused so parsing allocates nothing. */
const trimmed: TextRange = { start: 0, end: 0 };

/**
 * Parses a timestamp given as a string or a number.
 *
 * @example Accepted and rejected forms
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTimestamp } from "./timestamps.ts";
 * assert.deepEqual(parseTimestamp("2020-01-10"), { ok: true, ms: Date.UTC(2020, 0, 10) });
 * assert.deepEqual(parseTimestamp("2020-01-10 12:30:45.5+0100"), {
 *   ok: true,
 *   ms: Date.UTC(2020, 0, 10, 11, 30, 45, 500),
 * });
 * assert.deepEqual(parseTimestamp(1578659400), { ok: true, ms: 1578659400000 });
 * assert.deepEqual(parseTimestamp("2020-01-10T12:30"), {
 *   ok: false,
 *   reason: "Date-time needs Z or an offset",
 * });
 * ```
 */
export function parseTimestamp(value: unknown): TimestampResult {
  let ms: number;
  if (typeof value === "string") {
    ms = timestampInRange(value, { start: 0, end: value.length });
  } else if (typeof value === "number") {
    ms = epochToMs(value);
  } else {
    return { ok: false, reason: WRONG_TYPE };
  }
  return ms === ms ? { ok: true, ms } : { ok: false, reason: lastFailure };
}

/**
 * Parses the characters of `text` in `range` as a timestamp without cutting a
 * substring; surrounding spaces and tabs are ignored.
 *
 * Returns epoch milliseconds, or `NaN` when the text is not an accepted
 * timestamp; {@linkcode explainTimestamp} then tells why. The split keeps the
 * per-row path allocation-free.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timestampInRange } from "./timestamps.ts";
 * const line = "2020-01-10T00:00:01Z,5";
 * assert.equal(timestampInRange(line, { start: 0, end: 20 }), Date.UTC(2020, 0, 10, 0, 0, 1));
 * assert.ok(Number.isNaN(timestampInRange(line, { start: 0, end: 19 })));
 * ```
 */
export function timestampInRange(
  text: string,
  range: TextRange,
  options: ZoneOptions = NO_ZONE,
): number {
  let start = range.start;
  let end = range.end;
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  if (start === end) return fail(EMPTY);
  trimmed.start = start;
  trimmed.end = end;
  if (end - start >= 10 && text.charCodeAt(start + 4) === DASH) {
    return isoToMs(text, trimmed, options.zone);
  }
  const value = numberInRange(text, trimmed);
  if (value === INVALID_NUMBER) return fail(NOT_A_TIMESTAMP);
  return epochToMs(value);
}

/**
 * Explains why {@linkcode timestampInRange} rejects `text`, or returns `""`
 * when it is accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { explainTimestamp } from "./timestamps.ts";
 * assert.equal(explainTimestamp("2021-02-29"), "Day must be 01 to 28 in 2021-02");
 * assert.equal(explainTimestamp("2024-02-29"), "");
 * ```
 */
export function explainTimestamp(text: string, options: ZoneOptions = NO_ZONE): string {
  return Number.isNaN(timestampInRange(text, { start: 0, end: text.length }, options))
    ? lastFailure
    : "";
}

/**
 * Converts a Unix epoch number to whole milliseconds: magnitudes of at least
 * 1e11 are milliseconds, smaller ones seconds (fractions allowed).
 *
 * Returns `NaN` for non-finite numbers and instants outside the years 0000 to 9999.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { epochToMs } from "./timestamps.ts";
 * assert.equal(epochToMs(1578659400.25), 1578659400250);
 * assert.equal(epochToMs(1578659400250), 1578659400250);
 * assert.ok(Number.isNaN(epochToMs(Infinity)));
 * ```
 */
export function epochToMs(value: number): number {
  if (!Number.isFinite(value)) return fail(NOT_A_TIMESTAMP);
  const ms = Math.round(Math.abs(value) >= EPOCH_MS_THRESHOLD ? value : value * 1000);
  if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) return fail(OUT_OF_RANGE);
  return ms;
}

/** Two-digit strings "00".."99", so formatting never pads at run time. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
/** Three-digit strings "000".."999" for milliseconds. */
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

/** Day number and `YYYY-MM-DDT` prefix of the last formatted instant: rows cluster by day. */
let cachedDay = Number.NaN;
let cachedPrefix = "";

/**
 * Formats epoch milliseconds as ISO-8601 UTC with milliseconds, exactly like
 * `Date.prototype.toISOString` for the years 0000 to 9999 (and falls back to it
 * outside them).
 *
 * Hand-written because downloads format millions of timestamps and this is
 * several times faster than creating a `Date` per row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTimestamp } from "./timestamps.ts";
 * assert.equal(formatTimestamp(Date.UTC(2020, 0, 10, 12, 30)), "2020-01-10T12:30:00.000Z");
 * ```
 */
export function formatTimestamp(ms: number): string {
  if (!(ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS) || ms !== Math.floor(ms)) {
    return new Date(ms).toISOString();
  }
  const day = Math.floor(ms / MS_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = civilPrefix(day);
  }
  let rest = ms - day * MS_PER_DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return cachedPrefix + TWO_DIGITS[hours] + ":" + TWO_DIGITS[minutes] + ":" +
    TWO_DIGITS[seconds] + "." + THREE_DIGITS[rest - seconds * 1000] + "Z";
}

/** Days before the first of each month in a non-leap year. */
const DAYS_BEFORE_MONTH = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/** Leap days in the years 1 .. 1969, subtracted so that 1970-01-01 is day 0. */
const LEAP_DAYS_BEFORE_1970 = 477;

/** Epoch day number of January 1st of a proleptic Gregorian `year`. */
function yearStartDay(year: number): number {
  const y = year - 1;
  return 365 * (year - 1970) + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) -
    LEAP_DAYS_BEFORE_1970;
}

/** `YYYY-MM-DDT` for an epoch day number (Hinnant's `civil_from_days`). */
function civilPrefix(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) -
      Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return TWO_DIGITS[Math.floor(year / 100)] + TWO_DIGITS[year % 100] + "-" + TWO_DIGITS[month] +
    "-" + TWO_DIGITS[day] + "T";
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Epoch day number (days since 1970-01-01) of a proleptic Gregorian date;
 * `month` is 1-12 and `day` is not checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { epochDay } from "./timestamps.ts";
 * assert.equal(epochDay(2020, 3, 1) * 86_400_000, Date.UTC(2020, 2, 1));
 * ```
 */
export function epochDay(year: number, month: number, day: number): number {
  return yearStartDay(year) + DAYS_BEFORE_MONTH[month] +
    (month > 2 && isLeapYear(year) ? 1 : 0) + day - 1;
}

/**
 * Days in `month` (1-12) of a proleptic Gregorian `year`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { daysInMonth } from "./timestamps.ts";
 * assert.equal(daysInMonth(2024, 2), 29);
 * ```
 */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses an ISO date or date-time filling `range` exactly (already trimmed,
 * at least 10 characters, a dash at offset 4).
 */
function isoToMs(text: string, range: TextRange, local: ZoneConverter | undefined): number {
  const start = range.start;
  const end = range.end;
  const year = fourDigits(text, start);
  const month = twoDigits(text, start + 5);
  const day = twoDigits(text, start + 8);
  if (year < 0 || month < 0 || day < 0 || text.charCodeAt(start + 7) !== DASH) {
    return fail(NOT_A_TIMESTAMP);
  }
  if (month < 1 || month > 12) return fail(BAD_MONTH);
  const monthDays = daysInMonth(year, month);
  if (day < 1 || day > monthDays) {
    return fail(`Day must be 01 to ${monthDays} in ${text.slice(start, start + 7)}`);
  }
  const midnight = epochDay(year, month, day) * MS_PER_DAY;
  let i = start + 10;
  if (i === end) return midnight;

  // "THH:MM" at least.
  const separator = text.charCodeAt(i);
  if (separator !== UPPER_T && separator !== LOWER_T && separator !== SPACE) {
    return fail(NOT_A_TIMESTAMP);
  }
  if (end - i < 6) return fail(NOT_A_TIMESTAMP);
  const hour = twoDigits(text, i + 1);
  const minute = twoDigits(text, i + 4);
  if (hour < 0 || minute < 0 || text.charCodeAt(i + 3) !== COLON) return fail(NOT_A_TIMESTAMP);
  i += 6;
  let second = 0;
  let fractionMs = 0;
  if (i < end && text.charCodeAt(i) === COLON) {
    second = end - i < 3 ? -1 : twoDigits(text, i + 1);
    if (second < 0) return fail(NOT_A_TIMESTAMP);
    i += 3;
    if (i < end && text.charCodeAt(i) === DOT) {
      i++;
      const fractionStart = i;
      let fraction = 0;
      let scale = 1;
      for (; i < end; i++) {
        const d = text.charCodeAt(i) - ZERO;
        if (d < 0 || d > 9) break;
        // Beyond 15 digits a double cannot hold more; the rest are validated only.
        if (i - fractionStart < 15) {
          fraction = fraction * 10 + d;
          scale *= 10;
        }
      }
      if (i === fractionStart) return fail(NOT_A_TIMESTAMP);
      fractionMs = fraction * 1000 / scale;
    }
  }
  if (hour > 23) return fail(BAD_HOUR);
  if (minute > 59) return fail(BAD_MINUTE);
  if (second > 59) return fail(BAD_SECOND);
  if (i === end) {
    if (local === undefined) return fail(NEEDS_ZONE);
    const wall = Math.round(
      midnight + hour * 3_600_000 + minute * 60_000 + second * 1000 + fractionMs,
    );
    const instant = local.toInstant(wall);
    if (instant < MIN_TIMESTAMP_MS || instant > MAX_TIMESTAMP_MS) return fail(OUT_OF_RANGE);
    return instant;
  }

  let offsetMinutes = 0;
  const zone = text.charCodeAt(i);
  if (zone === UPPER_Z || zone === LOWER_Z) {
    if (i + 1 !== end) return fail(NOT_A_TIMESTAMP);
  } else if (zone === PLUS || zone === DASH) {
    // "+HH:MM" or "+HHMM"
    const colon = end - i === 6 && text.charCodeAt(i + 3) === COLON ? 1 : 0;
    if (end - i !== 5 + colon) return fail(BAD_OFFSET);
    const offsetHours = twoDigits(text, i + 1);
    const offsetMins = twoDigits(text, i + 3 + colon);
    if (offsetHours < 0 || offsetMins < 0 || offsetHours > 23 || offsetMins > 59) {
      return fail(BAD_OFFSET);
    }
    offsetMinutes = (zone === PLUS ? 1 : -1) * (offsetHours * 60 + offsetMins);
  } else {
    return fail(NOT_A_TIMESTAMP);
  }

  const ms = Math.round(
    midnight + hour * 3_600_000 + minute * 60_000 + second * 1000 + fractionMs -
      offsetMinutes * 60_000,
  );
  if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) return fail(OUT_OF_RANGE);
  return ms;
}

/** Two ASCII digits at `at` (the caller checked the bounds), or -1. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - ZERO;
  const ones = text.charCodeAt(at + 1) - ZERO;
  if (tens < 0 || tens > 9 || ones < 0 || ones > 9) return -1;
  return tens * 10 + ones;
}

/** Four ASCII digits at `at` (the caller checked the bounds), or -1. */
function fourDigits(text: string, at: number): number {
  const high = twoDigits(text, at);
  const low = twoDigits(text, at + 2);
  return high < 0 || low < 0 ? -1 : high * 100 + low;
}

function fail(reason: string): number {
  lastFailure = reason;
  return NaN;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}
