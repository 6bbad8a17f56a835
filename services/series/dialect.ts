/**
 * How to read a file that is not reportd's own clean CSV: the options a client
 * may give (`?delimiter=`, `?decimal=`, `?thousands=`, `?time_column=`,
 * `?date_format=`, `?timezone=`), what is detected when they are not given,
 * and the record of both (`source.dialect` in a report).
 *
 * Detection looks at a sample (the first 1,000 data rows, at most what the
 * first 64 KiB hold) and never guesses between two readings that both fit:
 * `03/04/2020` with no day above 12 in the sample is an error that names the
 * parameter to add, not a coin toss.
 *
 * @module
 */

import { AppError, type FieldError } from "../errors.ts";
import {
  INVALID_NUMBER,
  isBlank,
  numberInRange,
  quoteForMessage,
  type TextRange,
} from "./numbers.ts";
import { compileDateFormat, type DateFormatParser, zoneConverter } from "./time_formats.ts";
import type { ZoneConverter } from "./time_formats.ts";
import { explainTimestamp, timestampInRange } from "./timestamps.ts";

/** Parse options a client gives with an upload (all optional), as stored with its job. */
export interface ParseOptions {
  /** Field separator of a CSV: `,` `;` TAB or `|`. */
  delimiter?: string;
  /** Decimal mark of numbers in a CSV: `.` or `,`. */
  decimal?: string;
  /** Thousands separator to drop from numbers in a CSV: `,` `.` space or `'`. */
  thousands?: string;
  /** Name of the time column. */
  timeColumn?: string;
  /** strftime-style pattern of the times (see `time_formats.ts`). */
  dateFormat?: string;
  /** IANA zone of wall-clock times without an offset. */
  timezone?: string;
}

/** What a report says about how its file was read (`source.dialect`). */
export interface SourceDialect {
  /** `utf-8`, `utf-8-bom`, `utf-16le` or `utf-16be` (text formats). */
  encoding?: string;
  /** CSV field separator. */
  delimiter?: string;
  /** CSV decimal mark. */
  decimal?: string;
  /** CSV thousands separator, or null. */
  thousands?: string | null;
  /** JSON layout: `columnar`, `points`, `records`, `split` or `ndjson`. */
  shape?: string;
  /** The column or key the times came from. */
  time_column: string;
  /** `iso8601/epoch`, or the strftime pattern used. */
  time_format: string;
  /** The IANA zone applied to times without an offset, or null. */
  timezone: string | null;
  /** Which of the fields above were detected rather than given. */
  detected: string[];
  /** Notes on what was guessed, for a person. */
  notes?: string[];
}

/** The allowed values of the CSV options, as the query spells them. */
export const DELIMITERS: Readonly<Record<string, string>> = {
  ",": ",",
  ";": ";",
  "|": "|",
  "\t": "\t",
  tab: "\t",
  "\\t": "\t",
};
const DECIMALS = new Set([".", ","]);
const THOUSANDS = new Set([",", ".", " ", "'"]);
/** Candidates for delimiter detection, in order of preference on a tie. */
const DELIMITER_CANDIDATES = [",", ";", "\t", "|"];

/** Names a time column may have (compared trimmed, in any case). */
export const TIME_COLUMN_NAMES: readonly string[] = ["timestamp", "time", "date", "datetime", "t"];
const TIME_NAME_SET = new Set(TIME_COLUMN_NAMES);

/**
 * Cells that mean "no value": pandas' default `na_values` (the anchor: a file
 * pandas reads as missing, reportd reads as missing) plus `-`, which Excel
 * and finance exports use for "nothing traded".
 */
export const MISSING_TOKENS: readonly string[] = [
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "None",
  "n/a",
  "nan",
  "null",
  "-",
];
const MISSING_SET = new Set(MISSING_TOKENS);
/** Longest missing token; longer cells are never looked up. */
const MISSING_MAX = 8;

/** Share of sampled cells that must fit a reading for it to be chosen. */
const FIT_SHARE = 0.95;
/** Data rows looked at by detection. */
export const SAMPLE_ROWS = 1000;

/**
 * True when the cell in `range` (trimmed) is one of {@linkcode MISSING_TOKENS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isMissingCell } from "./dialect.ts";
 * assert.ok(isMissingCell("a, null ,b", { start: 2, end: 8 }));
 * assert.ok(!isMissingCell("abc", { start: 0, end: 3 }));
 * ```
 */
export function isMissingCell(text: string, range: TextRange): boolean {
  let start = range.start;
  let end = range.end;
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  if (end - start > MISSING_MAX) return false;
  return MISSING_SET.has(text.slice(start, end));
}

/**
 * Checks the query's parse options and returns them normalized (TAB spelled
 * as a tab), or throws `invalid_parameter` naming each bad one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateParseOptions } from "./dialect.ts";
 * assert.deepEqual(validateParseOptions({ delimiter: "tab", decimal: "," }), {
 *   delimiter: "\t",
 *   decimal: ",",
 * });
 * assert.throws(() => validateParseOptions({ timezone: "Mars/Olympus" }), /timezone/);
 * ```
 */
export function validateParseOptions(raw: ParseOptions): ParseOptions {
  const errors: FieldError[] = [];
  const options: ParseOptions = {};
  if (raw.delimiter !== undefined) {
    const delimiter = Object.hasOwn(DELIMITERS, raw.delimiter)
      ? DELIMITERS[raw.delimiter]
      : undefined;
    if (delimiter === undefined) {
      errors.push({ path: "query.delimiter", message: "Use , ; | or tab" });
    } else options.delimiter = delimiter;
  }
  if (raw.decimal !== undefined) {
    if (!DECIMALS.has(raw.decimal)) {
      errors.push({ path: "query.decimal", message: "Use . or ," });
    } else options.decimal = raw.decimal;
  }
  if (raw.thousands !== undefined) {
    if (!THOUSANDS.has(raw.thousands)) {
      errors.push({ path: "query.thousands", message: "Use , . ' or a space" });
    } else if (raw.thousands === (options.decimal ?? ".")) {
      errors.push({ path: "query.thousands", message: "Must differ from the decimal mark" });
    } else options.thousands = raw.thousands;
  }
  if (options.decimal === "," && options.delimiter === ",") {
    errors.push({
      path: "query.decimal",
      message: "A decimal comma needs another delimiter (; or tab)",
    });
  }
  if (raw.timeColumn !== undefined) {
    const name = raw.timeColumn.trim();
    if (name === "" || name.length > 200) {
      errors.push({ path: "query.time_column", message: "1 to 200 characters" });
    } else options.timeColumn = name;
  }
  if (raw.dateFormat !== undefined) {
    try {
      const parser = compileDateFormat(raw.dateFormat);
      if (parser.hasTime && !parser.hasZone && raw.timezone === undefined) {
        errors.push({
          path: "query.timezone",
          message: `The date_format ${raw.dateFormat} has a time but no %z offset: add ` +
            "?timezone= with an IANA zone such as UTC or Europe/Berlin",
        });
      }
      options.dateFormat = raw.dateFormat;
    } catch (error) {
      errors.push({ path: "query.date_format", message: (error as Error).message });
    }
  }
  if (raw.timezone !== undefined) {
    try {
      options.timezone = zoneConverter(raw.timezone).zone;
    } catch {
      errors.push({
        path: "query.timezone",
        message: `${quoteForMessage(raw.timezone)} is not an IANA zone (e.g. Europe/Berlin, UTC)`,
      });
    }
  }
  if (errors.length > 0) {
    const first = errors[0];
    throw new AppError(
      "invalid_parameter",
      `The upload's parse options are invalid (${first.path}: ${first.message})`,
      { errors },
    );
  }
  return options;
}

/** Reads time cells of one upload. */
export interface TimeReader {
  /** The pattern (`iso8601/epoch` or a strftime pattern). */
  readonly format: string;
  /** The zone applied to times without an offset, or null. */
  readonly zone: ZoneConverter | null;
  /** True for ISO-8601/epoch without a zone: the caller may use its own fast path. */
  readonly standard: boolean;
  /** Epoch ms of the cell, or NaN. */
  read(text: string, range: TextRange): number;
  /** Why `raw` is rejected, with a hint at the parameter that could help. */
  explain(raw: string): string;
}

const STANDARD_FORMAT = "iso8601/epoch";

/**
 * A reader for times in `format` (`undefined`: ISO-8601 or epoch) in `zone`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeReader } from "./dialect.ts";
 * const reader = timeReader({ dateFormat: "%d.%m.%Y %H:%M", timezone: "Europe/Berlin" });
 * const cell = "15.01.2020 13:00";
 * assert.equal(reader.read(cell, { start: 0, end: cell.length }), Date.UTC(2020, 0, 15, 12));
 * ```
 */
export function timeReader(options: Pick<ParseOptions, "dateFormat" | "timezone">): TimeReader {
  const zone = options.timezone === undefined ? null : zoneConverter(options.timezone);
  if (options.dateFormat === undefined) {
    const zoned = { zone: zone ?? undefined };
    return {
      format: STANDARD_FORMAT,
      zone,
      standard: zone === null,
      read: (text, range) => timestampInRange(text, range, zoned),
      explain(raw) {
        const reason = explainTimestamp(raw, zoned);
        if (reason === "Date-time needs Z or an offset") {
          return `${reason}; add ?timezone= (an IANA zone such as UTC or Europe/Berlin)`;
        }
        if (reason.startsWith("Not an ISO-8601")) {
          const suggestion = suggestFormats(raw.trim());
          if (suggestion !== "") return `${reason}; add ?date_format=${suggestion}`;
          // Only a cell shaped like a date gets the generic hint; "abc" does not.
          return /\d[/.\- ]\d/.test(raw)
            ? `${reason}; add ?date_format= (e.g. %d.%m.%Y %H:%M)`
            : reason;
        }
        return reason;
      },
    };
  }
  const parser = compileDateFormat(options.dateFormat);
  return patternReader(parser, zone);
}

function patternReader(parser: DateFormatParser, zone: ZoneConverter | null): TimeReader {
  const local = !parser.hasZone && zone !== null;
  return {
    format: parser.pattern,
    zone: parser.hasZone ? null : zone,
    standard: false,
    read(text, range) {
      const ms = parser.parse(text, range);
      return local && ms === ms ? zone.toInstant(ms) : ms;
    },
    explain(raw) {
      parser.parse(raw, { start: 0, end: raw.length });
      return `${parser.lastFailure()} (date_format ${parser.pattern})`;
    },
  };
}

/** Patterns tried when the times are not ISO-8601 or epoch numbers. */
const DATE_CANDIDATES = ["%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%b-%Y", "%d %b %Y"];
const TIME_CANDIDATES = ["", " %H:%M", " %H:%M:%S", " %H:%M:%S.%f"];
const CANDIDATES: DateFormatParser[] = DATE_CANDIDATES.flatMap((date) =>
  TIME_CANDIDATES.map((time) => compileDateFormat(date + time))
);

/** The candidate patterns that read `cell`, joined with " or ". */
function suggestFormats(cell: string): string {
  const range = { start: 0, end: cell.length };
  return CANDIDATES.filter((parser) => !Number.isNaN(parser.parse(cell, range)))
    .map((parser) => parser.pattern).join(" or ");
}

/** What {@linkcode chooseTimeReader} decided. */
export interface TimeChoice {
  /** The reader to use. */
  reader: TimeReader;
  /** True when the format was detected from the sample. */
  detected: boolean;
}

/**
 * Picks how to read the time cells of an upload from a sample of them.
 *
 * With `dateFormat` given, that is used. Otherwise ISO-8601/epoch when it
 * reads 95% of the sample; else the one candidate pattern (`%m/%d/%Y`,
 * `%d.%m.%Y %H:%M`, ...) that reads 95% of it. Throws `invalid_input` naming
 * `date_format` when two candidates fit with different results (`03/04/2020`),
 * and naming `timezone` when the times need a zone and none is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseTimeReader } from "./dialect.ts";
 * assert.equal(chooseTimeReader(["03/15/2020", "03/16/2020"], {}).reader.format, "%m/%d/%Y");
 * assert.throws(() => chooseTimeReader(["03/04/2020"], {}), /date_format/);
 * ```
 */
export function chooseTimeReader(
  sample: readonly string[],
  options: Pick<ParseOptions, "dateFormat" | "timezone">,
): TimeChoice {
  if (options.dateFormat !== undefined) {
    return { reader: timeReader(options), detected: false };
  }
  const standard = timeReader(options);
  const cells = sample.map((cell) => cell.trim()).filter((cell) => cell !== "");
  if (cells.length === 0 || fits(standard, cells)) return { reader: standard, detected: false };
  if (options.timezone === undefined) {
    const needsZone = cells.filter((cell) =>
      explainTimestamp(cell) === "Date-time needs Z or an offset"
    );
    if (needsZone.length >= cells.length * (1 - FIT_SHARE)) {
      throw needsTimezone(needsZone[0]);
    }
  }
  const fitting = CANDIDATES.filter((parser) => fits(patternReader(parser, null), cells));
  if (fitting.length === 0) return { reader: standard, detected: false };
  const first = fitting[0];
  const ambiguous = fitting.find((other) =>
    other !== first && cells.some((cell) => {
      const range = { start: 0, end: cell.length };
      const a = first.parse(cell, range);
      const b = other.parse(cell, range);
      return a === a && b === b && a !== b;
    })
  );
  if (ambiguous !== undefined) {
    const example = cells.find((cell) => {
      const range = { start: 0, end: cell.length };
      return first.parse(cell, range) !== ambiguous.parse(cell, range);
    }) ?? cells[0];
    const message = `${quoteForMessage(example)} could be ${first.pattern} or ` +
      `${ambiguous.pattern}: add ?date_format=${first.pattern} or ?date_format=` +
      ambiguous.pattern;
    throw new AppError("invalid_input", `The times are ambiguous: ${message}`, {
      errors: [{ path: "query.date_format", message }],
    });
  }
  if (first.hasTime && options.timezone === undefined) throw needsTimezone(cells[0]);
  return {
    reader: patternReader(
      first,
      options.timezone === undefined ? null : zoneConverter(options.timezone),
    ),
    detected: true,
  };
}

function needsTimezone(example: string): AppError {
  const message = `Times like ${quoteForMessage(example)} have no offset: add ?timezone= ` +
    "with the IANA zone they were written in (e.g. UTC or Europe/Berlin)";
  return new AppError("invalid_input", `The times need a zone: ${message}`, {
    errors: [{ path: "query.timezone", message }],
  });
}

function fits(reader: TimeReader, cells: readonly string[]): boolean {
  let ok = 0;
  for (const cell of cells) {
    const ms = reader.read(cell, { start: 0, end: cell.length });
    if (ms === ms) ok++;
  }
  return ok >= cells.length * FIT_SHARE;
}

/**
 * True when at least 95% of the non-empty `cells` read as times by any
 * supported reading (used to find a time column that has no time-like name).
 */
export function looksLikeTimes(cells: readonly string[]): boolean {
  const values = cells.map((cell) => cell.trim()).filter((cell) => cell !== "");
  if (values.length === 0) return false;
  // Plain numbers read as epochs; only a column of large integers counts,
  // or any price column would pass for a time column.
  if (
    values.every((cell) => numberInRange(cell, { start: 0, end: cell.length }) !== INVALID_NUMBER)
  ) {
    return values.every((cell) => /^\d{9,13}$/.test(cell));
  }
  const standard = timeReader({});
  if (fits(standard, values)) return true;
  if (
    values.filter((cell) => explainTimestamp(cell) === "Date-time needs Z or an offset").length >=
      values.length * FIT_SHARE
  ) {
    return true;
  }
  return CANDIDATES.some((parser) => fits(patternReader(parser, null), values));
}

/**
 * Finds the time column in `header`: the one named by `timeColumn`, else the
 * first with a time-like name, else (`byContent`) the first column when its
 * sample cells look like times. Returns -1 when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findTimeColumn } from "./dialect.ts";
 * assert.equal(findTimeColumn(["Open", "Date"], { firstColumn: [] }), 1);
 * assert.equal(findTimeColumn(["Stamp", "v"], { firstColumn: ["2020-01-01"] }), 0);
 * ```
 */
export function findTimeColumn(
  header: readonly string[],
  options: { timeColumn?: string; firstColumn: readonly string[] },
): number {
  const names = header.map((name) => name.trim());
  if (options.timeColumn !== undefined) {
    const exact = names.indexOf(options.timeColumn);
    if (exact !== -1) return exact;
    const lower = options.timeColumn.toLowerCase();
    return names.findIndex((name) => name.toLowerCase() === lower);
  }
  const named = names.findIndex((name) => TIME_NAME_SET.has(name.toLowerCase()));
  if (named !== -1) return named;
  return looksLikeTimes(options.firstColumn) ? 0 : -1;
}

/**
 * The error for an upload whose time column cannot be found, with a
 * delimiter hint when the header looks like another dialect.
 */
export function noTimeColumn(
  header: readonly string[],
  options: { timeColumn?: string; delimiter: string; path: string },
): AppError {
  const errors: FieldError[] = [];
  const shown = header.slice(0, 10).map((name) => quoteForMessage(name.trim())).join(", ");
  const hint = delimiterHint(header, options.delimiter);
  if (hint !== undefined) errors.push(hint);
  let message: string;
  if (options.timeColumn !== undefined) {
    message = `No column is named ${quoteForMessage(options.timeColumn)}; the columns are ${shown}`;
    errors.push({ path: "query.time_column", message });
  } else {
    message = "No time column: name one timestamp, time, date, datetime or t (any case), " +
      `or add ?time_column=NAME; the columns are ${shown}`;
    errors.push({ path: options.path, message });
    if (hint === undefined) {
      errors.push({ path: "query.time_column", message: "Name the time column" });
    }
  }
  const detail = hint === undefined ? message : `${hint.message}. ${message}`;
  return new AppError("invalid_input", detail, { errors });
}

/**
 * When a header has one cell holding another candidate delimiter, the
 * delimiter is wrong: returns the hint naming `?delimiter=`.
 */
export function delimiterHint(
  header: readonly string[],
  delimiter: string,
): FieldError | undefined {
  if (header.length !== 1) return undefined;
  const other = DELIMITER_CANDIDATES.find((candidate) =>
    candidate !== delimiter && header[0].includes(candidate)
  );
  if (other === undefined) return undefined;
  const name = other === "\t" ? "tab" : other;
  const shown = other === "\t" ? "TAB" : `\`${other}\``;
  return {
    path: "query.delimiter",
    message: `The header has one column and looks like a ${shown}-separated file: add ` +
      `?delimiter=${name}`,
  };
}

/**
 * Picks the CSV delimiter from the first lines of `text` (from `start`):
 * the candidate that appears the same number of times, at least once, on
 * the header and on nearly every following line (quotes respected). Ties go
 * to `,` then `;` TAB `|`; none fitting gives `,`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDelimiter } from "./dialect.ts";
 * assert.equal(detectDelimiter("Date;Value\n01.02.2020;1,5\n", 0), ";");
 * assert.equal(detectDelimiter('t,v\n1,"1;2"\n', 0), ",");
 * ```
 */
export function detectDelimiter(text: string, start: number): string {
  const lines = sampleLines(text, start, 30);
  if (lines.length === 0) return ",";
  let best = ",";
  let bestCount = 0;
  for (const candidate of DELIMITER_CANDIDATES) {
    const code = candidate.charCodeAt(0);
    const counts = lines.map((line) => countOutsideQuotes(line, code));
    const header = counts[0];
    if (header === 0) continue;
    const matching = counts.filter((count) => count === header).length;
    if (matching < Math.max(1, Math.ceil(counts.length * 0.9))) continue;
    if (header > bestCount) {
      best = candidate;
      bestCount = header;
    }
  }
  return best;
}

/** Up to `max` non-blank complete lines from `start` (a quoted line break joins lines). */
function sampleLines(text: string, start: number, max: number): string[] {
  const lines: string[] = [];
  const end = Math.min(text.length, start + 65_536);
  let lineStart = start;
  let quoted = false;
  for (let i = start; i < end && lines.length < max; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (!quoted && (c === 10 || c === 13)) {
      const line = text.slice(lineStart, i);
      if (line.trim() !== "") lines.push(line);
      lineStart = i + 1;
    }
  }
  if (lines.length < max && end === text.length && lineStart < end) {
    const line = text.slice(lineStart, end);
    if (line.trim() !== "") lines.push(line);
  }
  return lines;
}

function countOutsideQuotes(line: string, code: number): number {
  let count = 0;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === code && !quoted) count++;
  }
  return count;
}

/**
 * Whether the sampled value cells of a `;` or TAB file use a decimal comma:
 * some cell is `12,5`-shaped and none is `12.5`-shaped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDecimalComma } from "./dialect.ts";
 * assert.ok(detectDecimalComma(["1,5", "2", ""]));
 * assert.ok(!detectDecimalComma(["1,5", "2.5"]));
 * ```
 */
export function detectDecimalComma(cells: readonly string[]): boolean {
  let comma = false;
  for (const raw of cells) {
    const cell = raw.trim();
    if (/^[+-]?\d*\.\d+$/.test(cell)) return false;
    if (/^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$/.test(cell)) comma = true;
  }
  return comma;
}

/**
 * Converts a value cell written with a decimal comma and/or thousands
 * separators to a number; NaN for a missing token, {@linkcode INVALID_NUMBER}
 * for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localNumber } from "./dialect.ts";
 * assert.equal(localNumber("1.234,5", { decimal: ",", thousands: "." }), 1234.5);
 * assert.equal(localNumber("1,234.50", { decimal: ".", thousands: "," }), 1234.5);
 * ```
 */
export function localNumber(
  cell: string,
  options: { decimal: string; thousands: string | undefined },
): number {
  let text = cell.trim();
  if (MISSING_SET.has(text)) return NaN;
  if (options.thousands !== undefined && text.includes(options.thousands)) {
    const [whole, ...rest] = text.split(options.decimal);
    if (!/^[+-]?\d{1,3}(\D\d{3})*$/.test(whole) || rest.length > 1) return INVALID_NUMBER;
    text = whole.replaceAll(options.thousands, "") +
      (rest.length === 1 ? options.decimal + rest[0] : "");
  }
  if (options.decimal === ",") {
    if (text.includes(".")) return INVALID_NUMBER;
    text = text.replace(",", ".");
  }
  return numberInRange(text, { start: 0, end: text.length });
}
