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
  createRejectionLog,
  finishParse,
  recordRejection,
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
}

/** Keys that hold a point's timestamp in the row form. */
const TIMESTAMP_KEYS = new Set(["t", "timestamp", "time", "date"]);

/**
 * Parses a JSON upload into a column-oriented series.
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
  const envelope = typeof body === "object" && body !== null && !Array.isArray(body)
    ? body as Record<string, unknown>
    : undefined;
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
  return isRowForm
    ? parseRows(validate(RowUploadSchema, body), options.maxPoints)
    : parseColumns(validate(ColumnarUploadSchema, body), options.maxPoints);
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
