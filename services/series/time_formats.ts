/**
 * Times that are not ISO-8601: strftime-style `?date_format=` patterns and
 * `?timezone=` (IANA) for wall-clock times that carry no offset.
 *
 * Supported directives: `%Y` (4-digit year), `%m` (month 1-12, one or two
 * digits), `%d` (day), `%H` (hour 0-23), `%M` (minute), `%S` (second), `%f`
 * (fraction, 1 to 9 digits), `%z` (`Z`, `+HH:MM` or `+HHMM`), `%b` (English
 * month abbreviation, any case) and `%%`. Every other character must match
 * itself. The same list as Python's `strptime` for these letters, so a
 * pandas `date_format` copies over; `%y`, `%p` and locale names are left
 * out because they guess (a century, a language).
 *
 * Zones: a wall-clock time is turned into an instant with the zone's rules
 * from the platform's ICU data (`Intl.DateTimeFormat`). At DST changes
 * reportd follows RFC 5545 and JavaScript's `Temporal` "compatible" rule: a
 * time that happens twice (autumn) is the earlier of the two, a time that
 * never happens (spring) is moved forward by the length of the gap (02:30 in
 * Berlin on the spring-forward night is 03:30 CEST). pandas' default,
 * `ambiguous="raise"`, would fail a whole upload for one row a year; a
 * series of readings should not lose its night of the clock change, and the
 * repeated hour shows up as `duplicates` in the report.
 *
 * @module
 */

import { isBlank, type TextRange } from "./numbers.ts";
import { daysInMonth, epochDay, MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from "./timestamps.ts";

/** Reads one time cell: epoch milliseconds, or `NaN` with a reason in `lastFailure()`. */
export interface DateFormatParser {
  /** The pattern, as given. */
  readonly pattern: string;
  /** True when the pattern has `%z`: its values carry their own offset. */
  readonly hasZone: boolean;
  /** True when the pattern has an hour: the values are date-times, not dates. */
  readonly hasTime: boolean;
  /**
   * Parses `text` in `range` (trimmed here). Without `%z`, the result is the
   * wall-clock time read as UTC; the caller applies a zone.
   */
  parse(text: string, range: TextRange): number;
  /** Why the last failed {@linkcode DateFormatParser.parse} failed. */
  lastFailure(): string;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DIRECTIVES = new Set(["Y", "m", "d", "H", "M", "S", "f", "z", "b", "%"]);
const MS_PER_DAY = 86_400_000;

type Token =
  | { kind: "literal"; char: number }
  | { kind: "field"; letter: string };

/**
 * Checks a `date_format` pattern and returns a parser for it, or throws a
 * `RangeError` naming the first unsupported directive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileDateFormat } from "./time_formats.ts";
 * const us = compileDateFormat("%m/%d/%Y %H:%M");
 * assert.equal(us.parse("03/15/2020 14:05", { start: 0, end: 16 }), Date.UTC(2020, 2, 15, 14, 5));
 * assert.ok(Number.isNaN(us.parse("15/03/2020 14:05", { start: 0, end: 16 })));
 * assert.equal(us.lastFailure(), "Month must be 1 to 12");
 * assert.throws(() => compileDateFormat("%y-%m"), /%y/);
 * ```
 */
export function compileDateFormat(pattern: string): DateFormatParser {
  const tokens: Token[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== "%") {
      tokens.push({ kind: "literal", char: pattern.charCodeAt(i) });
      continue;
    }
    const letter = pattern[i + 1];
    if (letter === undefined || !DIRECTIVES.has(letter)) {
      throw new RangeError(
        `${letter === undefined ? "A lone %" : `%${letter}`} is not supported; use %Y %m %d ` +
          "%H %M %S %f %z %b or %%",
      );
    }
    i++;
    if (letter === "%") {
      tokens.push({ kind: "literal", char: 37 });
      continue;
    }
    if (seen.has(letter)) throw new RangeError(`%${letter} appears twice`);
    seen.add(letter);
    tokens.push({ kind: "field", letter });
  }
  if (!seen.has("Y") || !(seen.has("m") || seen.has("b")) || !seen.has("d")) {
    throw new RangeError("A date_format needs a year (%Y), a month (%m or %b) and a day (%d)");
  }
  if (seen.has("M") && !seen.has("H")) throw new RangeError("%M needs an hour (%H)");
  return new PatternParser(pattern, tokens, seen);
}

class PatternParser implements DateFormatParser {
  readonly pattern: string;
  readonly hasZone: boolean;
  readonly hasTime: boolean;
  readonly #tokens: Token[];
  #failure = "";

  constructor(pattern: string, tokens: Token[], seen: Set<string>) {
    this.pattern = pattern;
    this.#tokens = tokens;
    this.hasZone = seen.has("z");
    this.hasTime = seen.has("H");
  }

  lastFailure(): string {
    return this.#failure;
  }

  parse(text: string, range: TextRange): number {
    let i = range.start;
    let end = range.end;
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    while (end > i && isBlank(text.charCodeAt(end - 1))) end--;
    if (i === end) return this.#fail("Timestamp is empty");
    let year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, fraction = 0;
    let offsetMinutes = 0;
    for (const token of this.#tokens) {
      if (token.kind === "literal") {
        if (i >= end || text.charCodeAt(i) !== token.char) {
          return this.#fail(`Does not match ${this.pattern}`);
        }
        i++;
        continue;
      }
      const letter = token.letter;
      if (letter === "b") {
        const name = text.slice(i, i + 3).toLowerCase();
        const index = MONTHS.indexOf(name);
        if (index === -1) return this.#fail(`Expected a month name like Jan for %b`);
        month = index + 1;
        i += 3;
        continue;
      }
      if (letter === "z") {
        const zone = readOffset(text, i, end);
        if (zone === undefined) return this.#fail("Expected Z, +HH:MM or +HHMM for %z");
        offsetMinutes = zone.minutes;
        i = zone.next;
        continue;
      }
      // Numbers: %Y takes exactly 4 digits, %f 1 to 9, the others 1 or 2.
      const min = letter === "Y" ? 4 : 1;
      const max = letter === "Y" ? 4 : letter === "f" ? 9 : 2;
      let value = 0;
      let digits = 0;
      while (digits < max && i < end) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        value = value * 10 + d;
        digits++;
        i++;
      }
      if (digits < min) {
        return this.#fail(`Expected ${min === 4 ? "4 digits" : "digits"} for %${letter}`);
      }
      if (letter === "Y") year = value;
      else if (letter === "m") month = value;
      else if (letter === "d") day = value;
      else if (letter === "H") hour = value;
      else if (letter === "M") minute = value;
      else if (letter === "S") second = value;
      else fraction = value / 10 ** digits;
    }
    if (i !== end) return this.#fail(`Has text after ${this.pattern}`);
    if (month < 1 || month > 12) return this.#fail("Month must be 1 to 12");
    const monthDays = daysInMonth(year, month);
    if (day < 1 || day > monthDays) return this.#fail(`Day must be 1 to ${monthDays}`);
    if (hour > 23) return this.#fail("Hour must be 0 to 23");
    if (minute > 59) return this.#fail("Minute must be 0 to 59");
    if (second > 59) return this.#fail("Second must be 0 to 59");
    const ms = Math.round(
      epochDay(year, month, day) * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 +
        second * 1000 + fraction * 1000 - offsetMinutes * 60_000,
    );
    if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) {
      return this.#fail("Timestamp is outside the years 0000 to 9999");
    }
    return ms;
  }

  #fail(reason: string): number {
    this.#failure = reason;
    return NaN;
  }
}

function readOffset(
  text: string,
  at: number,
  end: number,
): { minutes: number; next: number } | undefined {
  const sign = text[at];
  if (sign === "Z" || sign === "z") return { minutes: 0, next: at + 1 };
  if (sign !== "+" && sign !== "-") return undefined;
  const match = /^(\d\d):?(\d\d)/.exec(text.slice(at + 1, Math.min(end, at + 6)));
  if (match === null) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours > 23 || minutes > 59) return undefined;
  return {
    minutes: (sign === "+" ? 1 : -1) * (hours * 60 + minutes),
    next: at + 1 + match[0].length,
  };
}

/** Turns wall-clock times of one IANA zone into instants. */
export interface ZoneConverter {
  /** The canonical zone name, e.g. `Europe/Berlin`. */
  readonly zone: string;
  /**
   * The instant (epoch ms) of a wall-clock time given as if it were UTC,
   * following the DST rule in this module's documentation.
   */
  toInstant(wallMs: number): number;
}

/** Offsets are cached per quarter hour: every modern zone changes offset on one. */
const OFFSET_BUCKET_MS = 900_000;

/**
 * Returns a converter for `zone`, or throws a `RangeError` when the platform
 * does not know it. Offsets are looked up once per quarter hour of time and
 * cached, because `Intl` costs microseconds per call and a series has
 * millions of rows.
 *
 * @example The DST rule in Berlin
 * ```ts
 * import assert from "node:assert/strict";
 * import { zoneConverter } from "./time_formats.ts";
 * const berlin = zoneConverter("Europe/Berlin");
 * assert.equal(berlin.toInstant(Date.UTC(2020, 0, 10, 12)), Date.UTC(2020, 0, 10, 11));
 * // 2020-03-29 02:30 does not exist: moved forward to 03:30 CEST (01:30Z).
 * assert.equal(berlin.toInstant(Date.UTC(2020, 2, 29, 2, 30)), Date.UTC(2020, 2, 29, 1, 30));
 * // 2020-10-25 02:30 happens twice: the earlier one (CEST, 00:30Z).
 * assert.equal(berlin.toInstant(Date.UTC(2020, 9, 25, 2, 30)), Date.UTC(2020, 9, 25, 0, 30));
 * ```
 */
export function zoneConverter(zone: string): ZoneConverter {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
    era: "short",
  });
  const canonical = format.resolvedOptions().timeZone;
  const cache = new Map<number, number>();

  /** Offset (local - UTC, in ms) in force at instant `utc`. */
  function offsetAt(utc: number): number {
    const bucket = Math.floor(utc / OFFSET_BUCKET_MS);
    let offset = cache.get(bucket);
    if (offset === undefined) {
      const at = bucket * OFFSET_BUCKET_MS;
      const parts: Record<string, string> = {};
      for (const part of format.formatToParts(at)) parts[part.type] = part.value;
      let year = Number(parts.year);
      if (parts.era === "BC" || parts.era === "B") year = 1 - year;
      // setUTCFullYear rather than Date.UTC, which maps years 0..99 to 1900..1999.
      const wall = new Date(0);
      wall.setUTCFullYear(year, Number(parts.month) - 1, Number(parts.day));
      wall.setUTCHours(Number(parts.hour), Number(parts.minute), Number(parts.second), 0);
      offset = wall.getTime() - at;
      cache.set(bucket, offset);
    }
    return offset;
  }

  return {
    zone: canonical,
    toInstant(wallMs: number): number {
      // Temporal's GetPossibleInstantsFor: try the offsets in force a day
      // before and after; each candidate that maps back to the wall time is real.
      const before = offsetAt(wallMs - MS_PER_DAY);
      const after = offsetAt(wallMs + MS_PER_DAY);
      const early = wallMs - before;
      if (before === after) return early;
      const late = wallMs - after;
      const earlyOk = early + offsetAt(early) === wallMs;
      const lateOk = late + offsetAt(late) === wallMs;
      if (earlyOk && lateOk) return Math.min(early, late);
      if (earlyOk) return early;
      if (lateOk) return late;
      // In a gap: shift forward by the gap, i.e. read with the earlier offset.
      return wallMs - before;
    },
  };
}
