/**
 * CSV upload parsing: header validation, row scanning and per-row rejection.
 *
 * The scanner is hand-written rather than built on a CSV library because a
 * report must say which physical line was rejected and why, including rows with
 * too few or too many cells; uDSV, for one, joins a short row with the next line.
 * Cells are located as index ranges and converted in place, so no substring is
 * created per cell: memory stays at the input string plus one `Float64Array` per
 * column, even for millions of rows.
 *
 * Accepted: RFC 4180 quoting (`""` escapes, commas and line breaks inside quotes),
 * CRLF, LF and CR line endings (even mixed), a UTF-8 byte order mark, blank or
 * whitespace-only lines (skipped), and spaces or tabs around cells, also around
 * quoted ones (`1, "2"`).
 *
 * @module
 */

import { AppError } from "../errors.ts";
import { INVALID_NUMBER, numberInRange, quoteForMessage, type TextRange } from "./numbers.ts";
import {
  createRejectionLog,
  finishParse,
  recordRejection,
  tooManyRows,
  validateColumnNames,
} from "./parse_common.ts";
import {
  chooseTimeReader,
  delimiterHint,
  detectDecimalComma,
  detectDelimiter,
  findTimeColumn,
  isMissingCell,
  localNumber,
  noTimeColumn,
  type ParseOptions,
  SAMPLE_ROWS,
  type SourceDialect,
  TIME_COLUMN_NAMES,
  type TimeReader,
} from "./dialect.ts";
import { timestampInRange } from "./timestamps.ts";
import type { ParsedSeries } from "./types.ts";

/** Options of {@linkcode parseCsvSeries}. */
export interface CsvParseOptions {
  /** Most data rows accepted; one more makes the upload `payload_too_large`. */
  maxPoints: number;
  /** What the client said about the file; the rest is detected. */
  parse?: ParseOptions;
}

const QUOTE = 34;
const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;
const BOM = 0xfeff;
const END = -1;

/** A cell taken verbatim from the text. */
const PLAIN = 0;
/** A quoted cell containing `""`, which must be unescaped before use. */
const ESCAPED = 1;

/** Problems that make a row unreadable before its cells are looked at. */
const MALFORMED_NONE = 0;
const MALFORMED_AFTER_QUOTE = 1;
const MALFORMED_UNTERMINATED = 2;

/**
 * Parses a CSV upload into a column-oriented series.
 *
 * The header row is required. The time column is the one named by
 * `parse.timeColumn`, else the first named `timestamp`, `time`, `date`,
 * `datetime` or `t` (any case), else the first column when its cells look
 * like times; every other column is a value column. The delimiter, decimal
 * mark and time format are detected when not given (see `dialect.ts`).
 * A data row is rejected (counted, with up to 10 examples) when its cell
 * count differs from the header's, its time is not readable, or a value cell
 * is text that is neither a number nor a missing token (`null`, `NaN`,
 * `N/A`, `-`, ... : see `MISSING_TOKENS`); a missing cell is `NaN`. Example
 * lines are physical, 1-based lines of the text.
 *
 * Throws `invalid_input` for a bad header, ambiguous times, no data rows or
 * no valid rows, and `payload_too_large` as soon as row `maxPoints + 1` is
 * reached.
 *
 * @example Parse a small upload with a missing and a rejected value
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCsvSeries } from "./parse_csv.ts";
 * const parsed = parseCsvSeries(
 *   "time,temp\n2020-01-10,1.5\n2020-01-11,null\n2020-01-12,abc\n",
 *   { maxPoints: 100 },
 * );
 * assert.deepEqual(parsed.series.names, ["temp"]);
 * assert.deepEqual([...parsed.series.columns[0]], [1.5, NaN]);
 * assert.equal(parsed.received, 3);
 * assert.deepEqual(parsed.rejectedExamples, [
 *   { line: 4, reason: 'Column "temp": "abc" is not a finite number' },
 * ]);
 * ```
 *
 * @example A semicolon file with decimal commas and German dates
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCsvSeries } from "./parse_csv.ts";
 * const parsed = parseCsvSeries("Datum;Wert\n15.01.2020;1,5\n16.01.2020;2\n", {
 *   maxPoints: 100,
 * });
 * assert.deepEqual([...parsed.series.columns[0]], [1.5, 2]);
 * assert.equal(parsed.dialect?.time_format, "%d.%m.%Y");
 * assert.deepEqual(parsed.dialect?.detected, ["delimiter", "time_column", "time_format", "decimal"]);
 * ```
 */
export function parseCsvSeries(text: string, options: CsvParseOptions): ParsedSeries {
  const plan = planCsv(text, { parse: options.parse ?? {}, complete: true });
  plan.scanner.fixCapacity(plan.header.length);
  const rows = startRows(plan, {
    maxPoints: options.maxPoints,
    capacity: plan.scanner.estimateRows(),
  });
  parseRows(plan, plan.scanner, rows);
  return finishRows(plan, rows);
}

/** Characters of head a streamed parse plans from: more than detection reads (64 KiB). */
const PLAN_CHARS = 128 * 1024;

/**
 * Parses a CSV that arrives in pieces, each complete row as soon as it is
 * there, so parsing overlaps receiving (services/jobs/ streams a large
 * upload into a worker while it is stored). The result is the one
 * {@linkcode parseCsvSeries} gives for the whole text, or nothing: the
 * stream gives up, and {@linkcode CsvStreamParser.finish} returns undefined
 * so that the caller parses the whole text, whenever equality is not
 * certain: a quote anywhere (a quoted cell may hide a line break where a
 * piece is cut), a head too short to plan from exactly as the whole text
 * would be planned (detection reads 64 KiB and samples 1,000 rows), or any
 * error (the whole parse then gives the error its usual way).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CsvStreamParser } from "./parse_csv.ts";
 * const stream = new CsvStreamParser({ maxPoints: 10 });
 * stream.push("t,v\n1,2\n");
 * // Too short to plan from exactly: the caller parses the whole text.
 * assert.equal(stream.finish(), undefined);
 * ```
 */
export class CsvStreamParser {
  readonly #options: CsvParseOptions & { expectedChars?: number };
  #pending = "";
  #plan: CsvPlan | undefined;
  #rows: CsvRows | undefined;
  #line = 1;
  #gaveUp = false;

  /** `expectedChars` (the body's size, when known) sizes the columns once. */
  constructor(options: CsvParseOptions & { expectedChars?: number }) {
    this.#options = options;
  }

  /** Parses the complete rows of `text` (the next piece); false once the stream gave up. */
  push(text: string): boolean {
    if (this.#gaveUp) return false;
    if (text.includes('"')) return this.#giveUp();
    this.#pending += text;
    const cut = this.#pending.lastIndexOf("\n") + 1;
    if (cut === 0 || (this.#plan === undefined && cut < PLAN_CHARS)) return true;
    const segment = this.#pending.slice(0, cut);
    this.#pending = this.#pending.slice(cut);
    try {
      this.#parse(segment);
    } catch {
      return this.#giveUp();
    }
    return true;
  }

  /** The parsed series once the last piece was pushed, or undefined when the stream gave up. */
  finish(): ParsedSeries | undefined {
    if (this.#gaveUp || this.#plan === undefined) return undefined;
    try {
      if (this.#pending.length > 0) this.#parse(this.#pending);
      this.#pending = "";
      return finishRows(this.#plan, this.#rows!);
    } catch {
      this.#giveUp();
      return undefined;
    }
  }

  #parse(segment: string): void {
    let plan = this.#plan;
    let scanner: CsvScanner;
    if (plan === undefined) {
      plan = planCsv(segment, { parse: this.#options.parse ?? {}, complete: false });
      if (plan.sampled < SAMPLE_ROWS) throw new Error("The head is too short to plan from");
      scanner = plan.scanner;
      scanner.fixCapacity(plan.header.length);
      const perChar = scanner.estimateRows() / (segment.length - scanner.pos);
      const expected = this.#options.expectedChars ?? 0;
      this.#plan = plan;
      this.#rows = startRows(plan, {
        maxPoints: this.#options.maxPoints,
        capacity: Math.ceil(perChar * Math.max(segment.length, expected)),
      });
    } else {
      scanner = new CsvScanner(segment, 0, plan.delimiter.charCodeAt(0));
      scanner.line = this.#line;
      scanner.fixCapacity(plan.header.length);
    }
    parseRows(plan, scanner, this.#rows!);
    this.#line = scanner.line;
  }

  #giveUp(): false {
    this.#gaveUp = true;
    this.#pending = "";
    this.#rows = undefined;
    return false;
  }
}

/** The columns being filled and the row accounting of one parse. */
interface CsvRows {
  maxPoints: number;
  capacity: number;
  timestamps: Float64Array;
  columns: Float64Array[];
  accepted: number;
  received: number;
  rejections: ReturnType<typeof createRejectionLog>;
}

function startRows(plan: CsvPlan, options: { maxPoints: number; capacity: number }): CsvRows {
  const capacity = Math.min(options.maxPoints, options.capacity);
  return {
    maxPoints: options.maxPoints,
    capacity,
    timestamps: new Float64Array(capacity),
    columns: Array.from({ length: plan.valueCells.length }, () => new Float64Array(capacity)),
    accepted: 0,
    received: 0,
    rejections: createRejectionLog(),
  };
}

function finishRows(plan: CsvPlan, rows: CsvRows): ParsedSeries {
  const parsed = finishParse({
    timestamps: rows.timestamps,
    columns: rows.columns,
    names: plan.names,
    accepted: rows.accepted,
    received: rows.received,
    rejections: rows.rejections,
    format: "CSV",
  });
  parsed.dialect = plan.dialect;
  return parsed;
}

/**
 * Reads every row `scanner` has left into `rows`: the hot loop, shared by the
 * whole-text and the streamed parse. The state lives in locals while it runs.
 */
function parseRows(plan: CsvPlan, scanner: CsvScanner, rows: CsvRows): void {
  const { maxPoints } = rows;
  const text = scanner.text;
  const cellCount = plan.header.length;
  const timeIndex = plan.timeIndex;
  const valueCells = plan.valueCells;
  const columnCount = valueCells.length;
  // Built once so a rejection reason costs one concatenation.
  const label = plan.header.map((name) => `Column "${name.trim()}": `);
  const reader = plan.reader;
  // ISO-8601/epoch without a zone is the common path: call the parser directly.
  const standardTime = reader.standard;
  const plainNumbers = plan.decimal === "." && plan.thousands === undefined;
  const numberOptions = { decimal: plan.decimal, thousands: plan.thousands };

  let capacity = rows.capacity;
  let timestamps = rows.timestamps;
  let columns = rows.columns;
  const rejections = rows.rejections;
  const starts = scanner.starts;
  const ends = scanner.ends;
  const kinds = scanner.kinds;
  // One range reused for every cell keeps the loop allocation-free.
  const cell: TextRange = { start: 0, end: 0 };
  let accepted = rows.accepted;
  let received = rows.received;

  while (scanner.skipBlankLines()) {
    received++;
    if (received > maxPoints) throw tooManyRows(maxPoints);
    if (accepted === capacity) {
      capacity = Math.min(maxPoints, Math.max(1024, capacity * 2));
      timestamps = grow(timestamps, capacity);
      columns = columns.map((column) => grow(column, capacity));
    }
    scanner.readRow();
    const line = scanner.rowLine;

    if (scanner.malformed !== MALFORMED_NONE) {
      const reason = scanner.malformed === MALFORMED_UNTERMINATED
        ? "A quoted cell is never closed"
        : "Unexpected text after a closing quote";
      recordRejection(rejections, { line, reason });
      continue;
    }
    if (scanner.cells !== cellCount) {
      recordRejection(rejections, {
        line,
        reason: `Expected ${cellCount} cells, found ${scanner.cells}`,
      });
      continue;
    }

    let ms: number;
    if (kinds[timeIndex] === PLAIN) {
      cell.start = starts[timeIndex];
      cell.end = ends[timeIndex];
      ms = standardTime ? timestampInRange(text, cell) : reader.read(text, cell);
    } else {
      const raw = scanner.cellText(timeIndex);
      ms = reader.read(raw, { start: 0, end: raw.length });
    }
    if (ms !== ms) {
      const raw = scanner.cellText(timeIndex);
      recordRejection(rejections, {
        line,
        reason: `${label[timeIndex]}${reader.explain(raw)} (got ${quoteForMessage(raw.trim())})`,
      });
      continue;
    }

    let bad = -1;
    for (let k = 0; k < columnCount; k++) {
      const c = valueCells[k];
      let value: number;
      if (kinds[c] === PLAIN && plainNumbers) {
        cell.start = starts[c];
        cell.end = ends[c];
        value = numberInRange(text, cell);
        // Off the fast path: only text cells get here.
        if (value === INVALID_NUMBER && isMissingCell(text, cell)) value = NaN;
      } else {
        value = localNumber(scanner.cellText(c), numberOptions);
      }
      if (value === INVALID_NUMBER) {
        bad = c;
        break;
      }
      columns[k][accepted] = value;
    }
    if (bad !== -1) {
      recordRejection(rejections, {
        line,
        reason: `${label[bad]}${
          quoteForMessage(scanner.cellText(bad).trim())
        } is not a finite number${valueHint(scanner.cellText(bad), plan)}`,
      });
      continue;
    }
    timestamps[accepted] = ms;
    accepted++;
  }
  rows.capacity = capacity;
  rows.timestamps = timestamps;
  rows.columns = columns;
  rows.accepted = accepted;
  rows.received = received;
}

/** A hint for a value cell that a parameter would have read. */
function valueHint(raw: string, plan: CsvPlan): string {
  const cell = raw.trim();
  if (plan.decimal === "." && /^[+-]?\d+,\d+$/.test(cell) && plan.delimiter !== ",") {
    return "; add ?decimal=, for decimal commas";
  }
  if (plan.thousands === undefined && /^[+-]?\d{1,3}([,.' ]\d{3})+([.,]\d+)?$/.test(cell)) {
    return "; add ?thousands= with the thousands separator";
  }
  return "";
}

/** How to read one CSV: what was given, detected, and where the data starts. */
interface CsvPlan {
  /** Positioned after the header row. */
  scanner: CsvScanner;
  header: string[];
  names: string[];
  timeIndex: number;
  valueCells: Int32Array;
  delimiter: string;
  decimal: string;
  thousands: string | undefined;
  reader: TimeReader;
  dialect: SourceDialect;
  /** Rows in the detection sample (a streamed parse needs a full one). */
  sampled: number;
}

/**
 * Reads the header and a sample of rows of `text` and decides how to read it.
 * With `complete` false, `text` is the head of a longer body: only rows that
 * end in a line break are sampled.
 */
function planCsv(
  text: string,
  options: { parse: ParseOptions; complete: boolean; seen?: string[] },
): CsvPlan {
  const parse = options.parse;
  const detected: string[] = [];
  // What is known so far, for a problem that says what was detected.
  const seen = options.seen ?? [];
  const start = text.charCodeAt(0) === BOM ? 1 : 0;
  const delimiter = parse.delimiter ?? detectDelimiter(text, start);
  if (parse.delimiter === undefined) detected.push("delimiter");
  seen.push(
    `delimiter ${delimiter === "\t" ? "tab" : quoteForMessage(delimiter)}` +
      (parse.delimiter === undefined ? " (detected)" : ""),
  );
  const scanner = new CsvScanner(text, start, delimiter.charCodeAt(0));
  const header = readHeader(scanner, delimiter);
  const afterHeader = { pos: scanner.pos, line: scanner.line };

  // The sample: cells of up to SAMPLE_ROWS rows with the header's width.
  const sample: string[][] = [];
  const sampleEnd = options.complete ? text.length : lastLineBreak(text);
  while (sample.length < SAMPLE_ROWS && scanner.skipBlankLines() && scanner.pos < sampleEnd) {
    scanner.readRow();
    if (!options.complete && scanner.pos > sampleEnd) break;
    if (scanner.malformed !== MALFORMED_NONE || scanner.cells !== header.length) continue;
    const row: string[] = [];
    for (let i = 0; i < header.length; i++) row.push(scanner.cellText(i));
    sample.push(row);
  }
  scanner.pos = afterHeader.pos;
  scanner.line = afterHeader.line;

  const timeIndex = findTimeColumn(header, {
    timeColumn: parse.timeColumn,
    firstColumn: sample.map((row) => row[0]),
  });
  if (timeIndex === -1) {
    throw noTimeColumn(header, { timeColumn: parse.timeColumn, delimiter, path: "header" });
  }
  if (parse.timeColumn === undefined) detected.push("time_column");
  const notes: string[] = [];
  const timeName = header[timeIndex].trim();
  seen.push(
    `time column ${quoteForMessage(timeName)}` +
      (parse.timeColumn === undefined ? " (detected)" : ""),
  );
  if (parse.timeColumn === undefined && !isTimeName(timeName)) {
    notes.push(
      `The first column, ${quoteForMessage(timeName)}, was taken as the time column ` +
        "because its cells read as times",
    );
  }
  if (header.length < 2) {
    throw headerError("The header needs at least one value column after the time column");
  }
  const valueIndices: number[] = [];
  for (let i = 0; i < header.length; i++) if (i !== timeIndex) valueIndices.push(i);
  const names = validateColumnNames(valueIndices.map((i) => header[i]), { path: "header" });

  const choice = chooseTimeReader(sample.map((row) => row[timeIndex]), parse);
  if (choice.detected) detected.push("time_format");

  let decimal = parse.decimal ?? ".";
  if (parse.decimal === undefined && delimiter !== ",") {
    const values = sample.flatMap((row) => valueIndices.map((i) => row[i]));
    if (detectDecimalComma(values)) {
      decimal = ",";
      detected.push("decimal");
    }
  }
  const dialect: SourceDialect = {
    delimiter,
    decimal,
    thousands: parse.thousands ?? null,
    time_column: timeName,
    time_format: choice.reader.format,
    timezone: parse.timezone ?? null,
    detected,
  };
  if (notes.length > 0) dialect.notes = notes;
  return {
    scanner,
    header,
    names,
    timeIndex,
    valueCells: Int32Array.from(valueIndices),
    delimiter,
    decimal,
    thousands: parse.thousands,
    reader: choice.reader,
    dialect,
    sampled: sample.length,
  };
}

function isTimeName(name: string): boolean {
  return TIME_COLUMN_NAMES.includes(name.toLowerCase());
}

/** Index just past the last line break of `text`, or 0. */
function lastLineBreak(text: string): number {
  return Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r")) + 1;
}

/** Options for {@linkcode checkCsvHead}. */
export interface CsvHeadOptions {
  /** True when `head` is the whole body, false when more bytes follow. */
  complete: boolean;
  /** What the client said about the file. */
  parse?: ParseOptions;
}

/**
 * Checks the beginning of a CSV upload for the mistakes that doom it, without
 * parsing the series: a missing or wrong header, no time column, times that
 * are ambiguous or need a zone, and (when `head` is the whole body) no data
 * rows. Throws the same `invalid_input` errors as {@linkcode parseCsvSeries};
 * says nothing when the head is too short to tell.
 *
 * The request path calls this on the first 64 KiB while the upload streams
 * into storage, so these errors get an immediate 422 although the series
 * itself is parsed later, in a worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkCsvHead } from "./parse_csv.ts";
 * assert.throws(() => checkCsvHead("when,value\nx,1\n", { complete: false }), /time column/);
 * assert.throws(() => checkCsvHead("t,value\n", { complete: true }), /no data rows/);
 * assert.throws(() => checkCsvHead("date,v\n03/04/2020,1\n", { complete: true }), /date_format/);
 * checkCsvHead("t,value\n1,2\n", { complete: false }); // fine
 * ```
 */
export function checkCsvHead(head: string, options: CsvHeadOptions): void {
  const start = head.charCodeAt(0) === BOM ? 1 : 0;
  if (!options.complete) {
    // Judge the header only once a line break proves it is complete; a
    // quoted cell may hold a line break, so an unterminated one proves nothing.
    const delimiter = options.parse?.delimiter ?? detectDelimiter(head, start);
    const scanner = new CsvScanner(head, start, delimiter.charCodeAt(0));
    if (!scanner.skipBlankLines()) return;
    scanner.readRow();
    const lastChar = head[scanner.pos - 1];
    const ended = lastChar === "\n" || lastChar === "\r";
    if (scanner.malformed === MALFORMED_UNTERMINATED || !ended) return;
  }
  const seen: string[] = [];
  let plan: CsvPlan;
  try {
    plan = planCsv(head, { parse: options.parse ?? {}, complete: options.complete, seen });
  } catch (error) {
    // Say what was detected before it failed: the page's "how to read this
    // file" form shows it beside the fields.
    if (!(error instanceof AppError) || seen.length === 0) throw error;
    throw new AppError(error.kind, error.message, {
      errors: [...(error.errors ?? []), {
        path: "dialect",
        message: `Read as: ${seen.join(", ")}`,
      }],
      cause: error.cause,
    });
  }
  if (options.complete && !plan.scanner.skipBlankLines()) {
    throw new AppError("invalid_input", "The CSV has no data rows");
  }
}

/** Reads the header row, returning its raw cells. */
function readHeader(scanner: CsvScanner, delimiter: string): string[] {
  if (!scanner.skipBlankLines()) {
    throw headerError("The CSV is empty: a header row is required");
  }
  scanner.readRow();
  if (scanner.malformed !== MALFORMED_NONE) {
    throw headerError("The header row has a malformed quoted cell");
  }
  const header: string[] = [];
  for (let i = 0; i < scanner.cells; i++) header.push(scanner.cellText(i));
  if (header.length < 2) {
    const hint = delimiterHint(header, delimiter);
    if (hint !== undefined) {
      throw new AppError("invalid_input", hint.message, {
        errors: [hint, { path: "header", message: "Only one column was found" }],
      });
    }
  }
  return header;
}

function headerError(message: string): AppError {
  return new AppError("invalid_input", message, { errors: [{ path: "header", message }] });
}

function grow(values: Float64Array, capacity: number): Float64Array {
  const bigger = new Float64Array(capacity);
  bigger.set(values);
  return bigger;
}

/**
 * Walks the text one row at a time, recording where each cell starts and ends
 * (inside the quotes for quoted cells) and the physical line of each row.
 */
class CsvScanner {
  readonly text: string;
  readonly length: number;
  /** Char code of the field separator. */
  readonly delimiter: number;
  pos: number;
  /** Physical line the scanner is on, 1-based. */
  line = 1;
  /** Line on which the last row read starts. */
  rowLine = 1;
  /** Cells in the last row read (may exceed the stored ones). */
  cells = 0;
  /** One of the `MALFORMED_*` codes for the last row read. */
  malformed = MALFORMED_NONE;
  starts: Int32Array = new Int32Array(16);
  ends: Int32Array = new Int32Array(16);
  kinds: Uint8Array = new Uint8Array(16);
  /** While false, cells past the arrays' end are counted but not stored. */
  private growable = true;

  constructor(text: string, pos: number, delimiter: number) {
    this.text = text;
    this.length = text.length;
    this.pos = pos;
    this.delimiter = delimiter;
  }

  /** Stops growing the cell arrays: data rows only need the header's cells. */
  fixCapacity(cells: number): void {
    if (this.starts.length < cells) {
      this.starts = new Int32Array(cells);
      this.ends = new Int32Array(cells);
      this.kinds = new Uint8Array(cells);
    }
    this.growable = false;
  }

  /**
   * Estimates the data rows left from the line breaks in the next 64 KiB, so
   * the columns rarely need to grow and are not vastly over-allocated.
   */
  estimateRows(): number {
    const sampleEnd = Math.min(this.length, this.pos + 65_536);
    const sampleLength = sampleEnd - this.pos;
    if (sampleLength <= 0) return 16;
    let breaks = 0;
    let at = this.text.indexOf("\n", this.pos);
    while (at !== -1 && at < sampleEnd) {
      breaks++;
      at = this.text.indexOf("\n", at + 1);
    }
    if (breaks === 0) {
      at = this.text.indexOf("\r", this.pos);
      while (at !== -1 && at < sampleEnd) {
        breaks++;
        at = this.text.indexOf("\r", at + 1);
      }
    }
    const perChar = (breaks + 1) / sampleLength;
    return Math.ceil(perChar * (this.length - this.pos) * 1.05) + 16;
  }

  /**
   * Skips blank and whitespace-only lines; returns false at the end of the text.
   */
  skipBlankLines(): boolean {
    const text = this.text;
    const length = this.length;
    let pos = this.pos;
    while (pos < length) {
      let c = text.charCodeAt(pos);
      while ((c === SPACE || c === TAB) && ++pos < length) c = text.charCodeAt(pos);
      if (pos === length) break;
      if (c === CR) {
        pos++;
        if (pos < length && text.charCodeAt(pos) === LF) pos++;
        this.line++;
      } else if (c === LF) {
        pos++;
        this.line++;
      } else {
        return true;
      }
      this.pos = pos;
    }
    this.pos = length;
    return false;
  }

  /** Reads one row starting at a non-blank line and moves past its line break. */
  readRow(): void {
    const text = this.text;
    const length = this.length;
    const delimiter = this.delimiter;
    // Blanks around cells are spaces and tabs, except in a tab-separated file.
    const tab = delimiter === TAB ? SPACE : TAB;
    let pos = this.pos;
    let cells = 0;
    let malformed = MALFORMED_NONE;
    this.rowLine = this.line;

    while (true) {
      let c = pos < length ? text.charCodeAt(pos) : END;
      if (c === SPACE || c === tab) {
        // Hand-edited files often put a space after the comma, before a quote.
        let ahead = pos + 1;
        let b = ahead < length ? text.charCodeAt(ahead) : END;
        while (b === SPACE || b === tab) b = ++ahead < length ? text.charCodeAt(ahead) : END;
        if (ahead < length && text.charCodeAt(ahead) === QUOTE) {
          pos = ahead;
          c = QUOTE;
        }
      }
      let start: number;
      let end: number;
      let kind = PLAIN;
      if (c === QUOTE) {
        start = pos + 1;
        let search = start;
        while (true) {
          const close = text.indexOf('"', search);
          if (close === -1) {
            end = length;
            pos = length;
            malformed = MALFORMED_UNTERMINATED;
            break;
          }
          if (close + 1 < length && text.charCodeAt(close + 1) === QUOTE) {
            kind = ESCAPED;
            search = close + 2;
            continue;
          }
          end = close;
          pos = close + 1;
          break;
        }
        this.countLineBreaks(start, end);
        c = pos < length ? text.charCodeAt(pos) : END;
        while (c === SPACE || c === tab) c = ++pos < length ? text.charCodeAt(pos) : END;
        if (c !== delimiter && c !== CR && c !== LF && c !== END) {
          if (malformed === MALFORMED_NONE) malformed = MALFORMED_AFTER_QUOTE;
          while (c !== delimiter && c !== CR && c !== LF && c !== END) {
            c = ++pos < length ? text.charCodeAt(pos) : END;
          }
        }
      } else {
        start = pos;
        while (c !== delimiter && c !== CR && c !== LF && c !== END) {
          c = ++pos < length ? text.charCodeAt(pos) : END;
        }
        end = pos;
      }

      if (cells >= this.starts.length && this.growable) this.growCells();
      if (cells < this.starts.length) {
        this.starts[cells] = start;
        this.ends[cells] = end;
        this.kinds[cells] = kind;
      }
      cells++;

      if (c === delimiter) {
        pos++;
        continue;
      }
      if (c === CR) {
        pos++;
        if (pos < length && text.charCodeAt(pos) === LF) pos++;
        this.line++;
      } else if (c === LF) {
        pos++;
        this.line++;
      }
      break;
    }
    this.pos = pos;
    this.cells = cells;
    this.malformed = malformed;
  }

  /** The text of stored cell `index` of the last row, unescaped. */
  cellText(index: number): string {
    const text = this.text.slice(this.starts[index], this.ends[index]);
    return this.kinds[index] === ESCAPED ? text.replaceAll('""', '"') : text;
  }

  private countLineBreaks(start: number, end: number): void {
    const text = this.text;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === LF) {
        this.line++;
      } else if (c === CR) {
        this.line++;
        if (i + 1 < end && text.charCodeAt(i + 1) === LF) i++;
      }
    }
  }

  private growCells(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const kinds = new Uint8Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    kinds.set(this.kinds);
    this.starts = starts;
    this.ends = ends;
    this.kinds = kinds;
  }
}
