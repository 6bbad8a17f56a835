/**
 * JSON upload parsing, columnar or row form (see `upload_schema.ts`).
 *
 * @module
 */

import type { z } from "zod";
import { AppError } from "../errors.ts";
import { locateJsonSyntaxError } from "./json_syntax.ts";
import { quoteForMessage } from "./numbers.ts";
import {
  chooseTimeReader,
  type ParseOptions,
  SAMPLE_ROWS,
  TIME_COLUMN_NAMES,
  type TimeReader,
} from "./dialect.ts";
import {
  createRejectionLog,
  finishParse,
  recordRejection,
  type RejectionLog,
  tooManyRows,
  validateColumnNames,
} from "./parse_common.ts";
import { epochToMs, explainTimestamp, timestampInRange } from "./timestamps.ts";
import type { ParsedSeries } from "./types.ts";
import {
  type ColumnarUpload,
  ColumnarUploadSchema,
  type RowUpload,
  RowUploadSchema,
} from "./upload_schema.ts";

/** Options of {@linkcode parseJsonSeries}. */
export interface JsonParseOptions {
  /** Most data rows accepted; more makes the upload `payload_too_large`. */
  maxPoints: number;
  /** `timeColumn`, `dateFormat` and `timezone` apply to records, split and NDJSON. */
  parse?: ParseOptions;
}

/** Keys that hold a point's timestamp in the row form. */
const TIMESTAMP_KEYS = new Set(["t", "timestamp", "time", "date"]);

/**
 * Parses a JSON upload into a column-oriented series: reportd's columnar or
 * points object, or pandas' `orient="records"` (a top-level array of row
 * objects) or `orient="split"` (`columns`, `index`, `data`).
 *
 * Envelope problems (not an object, no `timestamps`, a column shorter than
 * `timestamps`, a bad `name`) throw `invalid_input` with dotted field paths;
 * text that is not JSON throws `malformed_body` saying where it broke. Element problems reject just
 * that row: a timestamp not accepted by `timestamps.ts`, a value that is not a
 * finite number or null, or (row form) a point that is not an object or does
 * not have exactly one timestamp key. Example `line`s are the 1-based index of
 * the row in `timestamps` or `points`.
 *
 * Throws `invalid_input` when there are no rows or no valid rows, and
 * `payload_too_large` when there are more than `maxPoints` rows (checked
 * before any row is read).
 *
 * @example Both shapes give the same series
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonSeries } from "./parse_json.ts";
 * const columnar = parseJsonSeries(
 *   '{"name": "Demo", "timestamps": [0, 60], "columns": {"v": [1, null]}}',
 *   { maxPoints: 10 },
 * );
 * const rows = parseJsonSeries(
 *   '{"points": [{"t": 0, "v": 1}, {"t": 60}]}',
 *   { maxPoints: 10 },
 * );
 * assert.equal(columnar.name, "Demo");
 * assert.deepEqual(columnar.series, rows.series);
 * assert.deepEqual([...rows.series.columns[0]], [1, NaN]);
 * ```
 */
export function parseJsonSeries(text: string, options: JsonParseOptions): ParsedSeries {
  const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch (error) {
    const detail = `The body is not valid JSON: ${describeSyntaxError(json)}`;
    throw new AppError("malformed_body", detail, { cause: error });
  }
  if (Array.isArray(body)) return parseRecords(body, options);
  const envelope = typeof body === "object" && body !== null && !Array.isArray(body)
    ? body as Record<string, unknown>
    : undefined;
  if (envelope !== undefined && Array.isArray(envelope.columns) && Array.isArray(envelope.data)) {
    return parseSplit(envelope, options);
  }
  const isRowForm = envelope !== undefined && "points" in envelope;
  // Refuse an oversized body before zod walks millions of elements.
  const rowArray = isRowForm ? envelope.points : envelope?.timestamps;
  if (Array.isArray(rowArray) && rowArray.length > options.maxPoints) {
    throw tooManyRows(options.maxPoints);
  }
  // zod rebuilds `columns` by assignment, and assigning "__proto__" sets the
  // object's prototype instead of adding a key: the column would vanish
  // without a word (found by tests/api/injection_test.ts). Say so instead;
  // CSV and the row form keep such a name as data.
  const columns = envelope?.columns;
  if (
    !isRowForm && typeof columns === "object" && columns !== null &&
    Object.hasOwn(columns, "__proto__")
  ) {
    const message = 'The column name "__proto__" cannot be a key here; send it as CSV or in ' +
      "the points form, or rename it";
    throw new AppError("invalid_input", message, { errors: [{ path: "columns", message }] });
  }
  const parsed = isRowForm
    ? parseRows(validate(RowUploadSchema, body), options.maxPoints)
    : parseColumns(validate(ColumnarUploadSchema, body), options.maxPoints);
  parsed.dialect = {
    shape: isRowForm ? "points" : "columnar",
    time_column: isRowForm ? "t" : "timestamps",
    time_format: "iso8601/epoch",
    timezone: null,
    detected: [],
  };
  return parsed;
}

/** Where JSON parsing failed, as `<reason> at line L, column C (position P)`. */
function describeSyntaxError(json: string): string {
  const error = locateJsonSyntaxError(json);
  if (error === null) return "The parser rejected it";
  return `${error.reason} at line ${error.line}, column ${error.column} (position ${error.offset})`;
}

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.length === 0 ? "body" : issue.path.map(String).join("."),
    message: issue.message,
  }));
  const first = errors[0];
  throw new AppError(
    "invalid_input",
    `The JSON body is not a valid upload (${first.path}: ${first.message})`,
    { errors },
  );
}

function checkRowCount(rows: number, maxPoints: number): void {
  if (rows > maxPoints) throw tooManyRows(maxPoints);
  if (rows === 0) throw new AppError("invalid_input", "The JSON has no data rows");
}

function parseColumns(upload: ColumnarUpload, maxPoints: number): ParsedSeries {
  const rawTimestamps = upload.timestamps;
  const rows = rawTimestamps.length;
  checkRowCount(rows, maxPoints);
  const keys = Object.keys(upload.columns);
  const names = validateColumnNames(keys, { path: "columns" });
  const sources = keys.map((key) => upload.columns[key]);
  const labels = names.map((name) => `Column "${name}": `);
  const timestamps = new Float64Array(rows);
  const columns = names.map(() => new Float64Array(rows));
  const rejections = createRejectionLog();
  let accepted = 0;

  rows: for (let row = 0; row < rows; row++) {
    const ms = jsonTimestamp(rawTimestamps[row]);
    if (ms !== ms) {
      recordRejection(rejections, {
        line: row + 1,
        reason: timestampReason(rawTimestamps[row], "Timestamp: "),
      });
      continue;
    }
    for (let c = 0; c < sources.length; c++) {
      const value = jsonValue(sources[c][row]);
      if (value === undefined) {
        recordRejection(rejections, {
          line: row + 1,
          reason: valueReason(sources[c][row], labels[c]),
        });
        continue rows;
      }
      columns[c][accepted] = value;
    }
    timestamps[accepted] = ms;
    accepted++;
  }

  return finishParse({
    timestamps,
    columns,
    names,
    accepted,
    received: rows,
    rejections,
    name: upload.name,
    format: "JSON",
  });
}

function parseRows(upload: RowUpload, maxPoints: number): ParsedSeries {
  const points = upload.points;
  const rows = points.length;
  checkRowCount(rows, maxPoints);
  const timestamps = new Float64Array(rows);
  // Columns are discovered as points are read; each starts all-missing so a
  // point without a key leaves NaN there.
  const indexByKey = new Map<string, number>();
  const keys: string[] = [];
  const columns: Float64Array[] = [];
  const rejections = createRejectionLog();
  let accepted = 0;

  for (let row = 0; row < rows; row++) {
    const point = points[row];
    const line = row + 1;
    if (typeof point !== "object" || point === null || Array.isArray(point)) {
      recordRejection(rejections, { line, reason: "Point must be an object" });
      continue;
    }
    const record = point as Record<string, unknown>;
    let timestampKey = "";
    let reason = "";
    for (const key in record) {
      if (TIMESTAMP_KEYS.has(key)) {
        if (timestampKey !== "") {
          reason = `Point has more than one timestamp key ("${timestampKey}", "${key}")`;
          break;
        }
        timestampKey = key;
        continue;
      }
      let index = indexByKey.get(key);
      if (index === undefined) {
        index = columns.length;
        indexByKey.set(key, index);
        keys.push(key);
        columns.push(new Float64Array(rows).fill(NaN));
      }
      const raw = record[key];
      const value = jsonValue(raw);
      if (value === undefined) {
        reason = valueReason(raw, `Column "${key.trim()}": `);
        break;
      }
      columns[index][accepted] = value;
    }
    if (reason === "" && timestampKey === "") {
      reason = "Point has no timestamp key (t, timestamp, time or date)";
    }
    if (reason !== "") {
      recordRejection(rejections, { line, reason });
      clearRow(columns, accepted);
      continue;
    }
    const rawTimestamp = record[timestampKey];
    const ms = jsonTimestamp(rawTimestamp);
    if (ms !== ms) {
      recordRejection(rejections, {
        line,
        reason: timestampReason(rawTimestamp, `Column "${timestampKey}": `),
      });
      clearRow(columns, accepted);
      continue;
    }
    timestamps[accepted] = ms;
    accepted++;
  }

  if (keys.length === 0) {
    const message = "The points have no value columns besides the timestamp";
    throw new AppError("invalid_input", message, { errors: [{ path: "points", message }] });
  }
  return finishParse({
    timestamps,
    columns,
    names: validateColumnNames(keys, { path: "points" }),
    accepted,
    received: rows,
    rejections,
    name: upload.name,
    format: "JSON",
  });
}

/**
 * A rejected point may have written some values into the slot the next point
 * will use; restore them to missing so they cannot leak into it.
 */
function clearRow(columns: Float64Array[], slot: number): void {
  for (const column of columns) column[slot] = NaN;
}

/** Epoch milliseconds of a JSON timestamp, or NaN when it is not accepted. */
function jsonTimestamp(raw: unknown): number {
  if (typeof raw === "string") return timestampInRange(raw, { start: 0, end: raw.length });
  if (typeof raw === "number") return epochToMs(raw);
  return NaN;
}

/** Why {@linkcode jsonTimestamp} rejected `raw`, prefixed with `label`. */
function timestampReason(raw: unknown, label: string): string {
  if (typeof raw === "string") {
    return `${label}${explainTimestamp(raw)} (got ${quoteForMessage(raw)})`;
  }
  if (typeof raw === "number") {
    return `${label}Epoch number ${raw} is outside the years 0000 to 9999`;
  }
  return `${label}Timestamp must be a string or a number, not ${describe(raw)}`;
}

/** A finite number, NaN for null (missing), or undefined when the row must be rejected. */
function jsonValue(raw: unknown): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : undefined;
  if (raw === null) return NaN;
  return undefined;
}

function valueReason(raw: unknown, label: string): string {
  if (typeof raw === "number") return `${label}${raw} is not a finite number`;
  return `${label}Must be a number or null, not ${describe(raw)}`;
}

function describe(raw: unknown): string {
  if (typeof raw === "string") return `the string ${quoteForMessage(raw)}`;
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "an array";
  return typeof raw === "object" ? "an object" : typeof raw;
}

/** Options of {@linkcode parseNdjsonSeries}. */
export type NdjsonParseOptions = JsonParseOptions;

/**
 * Parses NDJSON (`application/x-ndjson`): one JSON object per line, keys as in
 * pandas' `orient="records"`. Lines are parsed one at a time, so memory holds
 * the text and one row, never an array of millions of objects; a line that is
 * not a JSON object rejects that row (its `line` is the physical line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNdjsonSeries } from "./parse_json.ts";
 * const parsed = parseNdjsonSeries('{"date":1578614400000,"v":1}\n{"date":1578700800000,"v":null}\n', {
 *   maxPoints: 10,
 * });
 * assert.deepEqual([...parsed.series.columns[0]], [1, NaN]);
 * assert.equal(parsed.dialect?.shape, "ndjson");
 * ```
 */
export function parseNdjsonSeries(text: string, options: NdjsonParseOptions): ParsedSeries {
  const held: { record: unknown; line: number }[] = [];
  const rejections = createRejectionLog();
  const rows = new RecordRows("ndjson", options);
  // The first rows are held back until the time format is chosen from them.
  const flush = () => {
    rows.plan(held.map((entry) => entry.record));
    for (const entry of held) rows.add(entry.record, entry.line, rejections);
    held.length = 0;
  };
  let received = 0;
  let line = 0;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    line++;
    const source = text.slice(start, end).trim();
    start = end + 1;
    if (source === "") continue;
    received++;
    if (received > options.maxPoints) throw tooManyRows(options.maxPoints);
    let record: unknown;
    try {
      record = JSON.parse(source);
    } catch {
      recordRejection(rejections, { line, reason: "Not valid JSON" });
      continue;
    }
    if (rows.planned) {
      rows.add(record, line, rejections);
      continue;
    }
    held.push({ record, line });
    if (held.length === SAMPLE_ROWS) flush();
  }
  if (!rows.planned) flush();
  return rows.finish(received, rejections);
}

/**
 * Rows given as objects (pandas `orient="records"`, NDJSON): the time key is
 * `parse.timeColumn` or the first key named like a time, found in the first
 * object; every other key is a value column.
 */
class RecordRows {
  readonly #shape: string;
  readonly #parse: ParseOptions;
  #timeKey = "";
  #reader: TimeReader | undefined;
  #formatDetected = false;
  #timestamps: Float64Array = new Float64Array(1024);
  #columns: Float64Array[] = [];
  readonly #indexByKey = new Map<string, number>();
  readonly #keys: string[] = [];
  #accepted = 0;
  /** True once {@linkcode RecordRows.plan} ran. */
  planned = false;

  constructor(shape: string, options: JsonParseOptions) {
    this.#shape = shape;
    this.#parse = options.parse ?? {};
  }

  /** Picks the time key and time format from the first records. */
  plan(sample: unknown[]): void {
    this.planned = true;
    const first = sample.find(isRecord);
    if (first === undefined) return;
    const keys = Object.keys(first);
    const wanted = this.#parse.timeColumn;
    const key = wanted === undefined
      ? keys.find((name) => TIME_COLUMN_NAMES.includes(name.trim().toLowerCase()))
      : keys.find((name) => name === wanted) ??
        keys.find((name) => name.toLowerCase() === wanted.toLowerCase());
    if (key === undefined) {
      const shown = keys.slice(0, 10).map((name) => quoteForMessage(name)).join(", ");
      const message = wanted === undefined
        ? `No time key: name one timestamp, time, date, datetime or t (any case), or add ` +
          `?time_column=NAME; the keys are ${shown}`
        : `No key is named ${quoteForMessage(wanted)}; the keys are ${shown}`;
      throw new AppError("invalid_input", message, {
        errors: [{ path: "query.time_column", message }],
      });
    }
    this.#timeKey = key;
    const strings = sample.flatMap((record) => {
      const value = isRecord(record) ? record[key] : undefined;
      return typeof value === "string" ? [value] : [];
    });
    const choice = chooseTimeReader(strings, this.#parse);
    this.#reader = choice.reader;
    this.#formatDetected = choice.detected;
  }

  add(record: unknown, line: number, rejections: RejectionLog): void {
    if (!isRecord(record)) {
      recordRejection(rejections, { line, reason: "Row must be a JSON object" });
      return;
    }
    const slot = this.#accepted;
    if (slot === this.#timestamps.length) this.#grow();
    let reason = "";
    for (const key in record) {
      if (key === this.#timeKey) continue;
      let index = this.#indexByKey.get(key);
      if (index === undefined) {
        index = this.#columns.length;
        this.#indexByKey.set(key, index);
        this.#keys.push(key);
        this.#columns.push(new Float64Array(this.#timestamps.length).fill(NaN));
      }
      const raw = record[key];
      const value = jsonValue(raw);
      if (value === undefined) {
        reason = valueReason(raw, `Column "${key.trim()}": `);
        break;
      }
      this.#columns[index][slot] = value;
    }
    const rawTime = record[this.#timeKey];
    let ms = NaN;
    if (reason === "") {
      if (rawTime === undefined) reason = `Row has no ${quoteForMessage(this.#timeKey)} key`;
      else {
        ms = this.#time(rawTime);
        if (ms !== ms) reason = this.#timeReason(rawTime);
      }
    }
    if (reason !== "") {
      recordRejection(rejections, { line, reason });
      clearRow(this.#columns, slot);
      return;
    }
    this.#timestamps[slot] = ms;
    this.#accepted++;
  }

  finish(received: number, rejections: RejectionLog): ParsedSeries {
    if (received === 0) throw new AppError("invalid_input", "The JSON has no data rows");
    if (this.#keys.length === 0 && this.#accepted > 0) {
      const message = "The rows have no value columns besides the time";
      throw new AppError("invalid_input", message, { errors: [{ path: "body", message }] });
    }
    const parsed = finishParse({
      timestamps: this.#timestamps,
      columns: this.#columns,
      names: validateColumnNames(this.#keys, { path: "body" }),
      accepted: this.#accepted,
      received,
      rejections,
      format: "JSON",
    });
    const detected = this.#parse.timeColumn === undefined ? ["time_column"] : [];
    if (this.#formatDetected) detected.push("time_format");
    parsed.dialect = {
      shape: this.#shape,
      time_column: this.#timeKey,
      time_format: this.#reader?.format ?? "iso8601/epoch",
      timezone: this.#parse.timezone ?? null,
      detected,
    };
    return parsed;
  }

  #time(raw: unknown): number {
    if (typeof raw === "number") return epochToMs(raw);
    if (typeof raw === "string" && this.#reader !== undefined) {
      return this.#reader.read(raw, { start: 0, end: raw.length });
    }
    return NaN;
  }

  #timeReason(raw: unknown): string {
    const label = `Column "${this.#timeKey}": `;
    if (typeof raw === "string" && this.#reader !== undefined) {
      return `${label}${this.#reader.explain(raw)} (got ${quoteForMessage(raw)})`;
    }
    return timestampReason(raw, label);
  }

  #grow(): void {
    const size = this.#timestamps.length * 2;
    const grow = (values: Float64Array, fill: number) => {
      const bigger = new Float64Array(size).fill(fill);
      bigger.set(values);
      return bigger;
    };
    this.#timestamps = grow(this.#timestamps, 0);
    this.#columns = this.#columns.map((column) => grow(column, NaN));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** pandas `orient="records"`: an array of row objects. */
function parseRecords(body: unknown[], options: JsonParseOptions): ParsedSeries {
  if (body.length > options.maxPoints) throw tooManyRows(options.maxPoints);
  if (body.length > 0 && !isRecord(body[0])) {
    const message = `Expected row objects (pandas orient="records"), not ${describe(body[0])}`;
    throw new AppError("invalid_input", `The JSON array must hold row objects`, {
      errors: [{ path: "body", message }],
    });
  }
  const rows = new RecordRows("records", options);
  rows.plan(body.slice(0, SAMPLE_ROWS));
  const rejections = createRejectionLog();
  for (let i = 0; i < body.length; i++) rows.add(body[i], i + 1, rejections);
  return rows.finish(body.length, rejections);
}

/**
 * pandas `orient="split"`: `{"columns": [...], "index": [...], "data": [[...]]}`.
 * The time is the column named like one (or `?time_column=`), else the index.
 */
function parseSplit(body: Record<string, unknown>, options: JsonParseOptions): ParsedSeries {
  const columns = body.columns as unknown[];
  const data = body.data as unknown[];
  const index = Array.isArray(body.index) ? body.index : undefined;
  if (!columns.every((name) => typeof name === "string")) {
    const message = "Every entry of columns must be a string";
    throw new AppError("invalid_input", message, { errors: [{ path: "columns", message }] });
  }
  if (data.length > options.maxPoints) throw tooManyRows(options.maxPoints);
  const names = columns as string[];
  const wanted = options.parse?.timeColumn;
  const inColumns = wanted === undefined
    ? names.some((name) => TIME_COLUMN_NAMES.includes(name.trim().toLowerCase()))
    : names.some((name) => name.toLowerCase() === wanted.toLowerCase());
  const timeKey = inColumns || index === undefined ? undefined : "index";
  const records = data.map((row, i) => {
    if (!Array.isArray(row) || row.length !== names.length) return row;
    const record: Record<string, unknown> = {};
    if (timeKey !== undefined) record[timeKey] = index?.[i];
    for (let c = 0; c < names.length; c++) record[names[c]] = row[c];
    return record;
  });
  const parse = timeKey === undefined ? options.parse : { ...options.parse, timeColumn: timeKey };
  const rows = new RecordRows("split", { ...options, parse });
  rows.plan(records.slice(0, SAMPLE_ROWS));
  const rejections = createRejectionLog();
  for (let i = 0; i < records.length; i++) {
    const row = data[i];
    if (!Array.isArray(row) || row.length !== names.length) {
      recordRejection(rejections, {
        line: i + 1,
        reason: `Row must be an array of ${names.length} values`,
      });
      continue;
    }
    rows.add(records[i], i + 1, rejections);
  }
  const parsed = rows.finish(data.length, rejections);
  if (timeKey !== undefined && parsed.dialect !== undefined) {
    parsed.dialect.detected = parsed.dialect.detected.filter((field) => field !== "time_column");
    if (wanted === undefined) parsed.dialect.detected.unshift("time_column");
  }
  return parsed;
}

/**
 * Checks the first complete lines of an NDJSON upload at the request: each
 * must be a JSON object, one of them must have a time key, and the times must
 * not be ambiguous or lack a zone. Says nothing about a cut last line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkNdjsonHead } from "./parse_json.ts";
 * assert.throws(() => checkNdjsonHead('[1,2]\n', { complete: true }), /Line 1/);
 * checkNdjsonHead('{"t": 0, "v": 1}\n{"t": 6', { complete: false }); // fine
 * ```
 */
export function checkNdjsonHead(
  head: string,
  options: { complete: boolean; parse?: ParseOptions },
): void {
  const end = options.complete ? head.length : head.lastIndexOf("\n") + 1;
  const lines = head.slice(head.charCodeAt(0) === 0xfeff ? 1 : 0, end).split("\n");
  const records: unknown[] = [];
  for (let i = 0; i < lines.length && records.length < SAMPLE_ROWS; i++) {
    const source = lines[i].trim();
    if (source === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(source);
    } catch {
      throw new AppError("malformed_body", `Line ${i + 1} is not valid JSON`, {
        errors: [{ path: `line.${i + 1}`, message: "Each line must be one JSON object" }],
      });
    }
    if (!isRecord(record)) {
      throw new AppError("invalid_input", `Line ${i + 1} is not a JSON object`, {
        errors: [{ path: `line.${i + 1}`, message: "Each line must be one JSON object" }],
      });
    }
    records.push(record);
  }
  if (records.length === 0) {
    if (options.complete) throw new AppError("invalid_input", "The NDJSON has no data rows");
    return;
  }
  new RecordRows("ndjson", { maxPoints: Infinity, parse: options.parse }).plan(records);
}

/**
 * Checks the first row objects of a pandas `orient="records"` upload at the
 * request: the time key must be there and the times must not be ambiguous or
 * lack a zone. Only objects that are complete in `head` are read, so a cut
 * last one is ignored, as is a head that is not such an array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRecordsHead } from "./parse_json.ts";
 * assert.throws(() => checkRecordsHead('[{"date": "03/04/2020", "v": 1}, {"da', {}), /date_format/);
 * checkRecordsHead('[{"date": "2020-03-04", "v": 1}, {"da', {}); // fine
 * ```
 */
export function checkRecordsHead(head: string, options: { parse?: ParseOptions }): void {
  const records: unknown[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < head.length && records.length < SAMPLE_ROWS; i++) {
    const c = head[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
    } else if (c === "{" || c === "[") {
      depth++;
      // Depth 1 is the top-level array; its objects open at depth 2.
      if (c === "{" && depth === 2) start = i;
    } else if (c === "}" || c === "]") {
      if (c === "}" && depth === 2 && start !== -1) {
        try {
          records.push(JSON.parse(head.slice(start, i + 1)));
        } catch {
          return; // Not JSON after all: the worker says where it broke.
        }
        start = -1;
      }
      depth--;
    }
  }
  if (records.length === 0) return;
  new RecordRows("records", { maxPoints: Infinity, parse: options.parse }).plan(records);
}
