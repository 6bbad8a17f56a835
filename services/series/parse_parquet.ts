/**
 * Parquet upload parsing with hyparquet (pure JavaScript, no native code, so
 * it runs in the worker and in `deno compile` binaries) and the codecs of
 * hyparquet-compressors (Snappy, gzip, Zstandard, Brotli, LZ4), which cover
 * what pandas/pyarrow (Snappy), DuckDB (Snappy) and Polars (Zstandard) write
 * by default. The choice is measured in docs/decisions/0018-parquet-reader.md.
 *
 * A file is a time column (a TIMESTAMP, DATE or INT96 column, or strings read
 * like CSV times) and numeric columns (integers, floats, decimals). Anything
 * else (strings, booleans, nested lists or structs) is named in the problem
 * rather than dropped without a word.
 *
 * @module
 */

import { parquetMetadata, parquetRead, parquetSchema, type SchemaTree } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { AppError } from "../errors.ts";
import { type ParseOptions, type SourceDialect, TIME_COLUMN_NAMES, timeReader } from "./dialect.ts";
import { quoteForMessage } from "./numbers.ts";
import {
  createRejectionLog,
  finishParse,
  recordRejection,
  tooManyRows,
  validateColumnNames,
} from "./parse_common.ts";
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from "./timestamps.ts";
import { zoneConverter } from "./time_formats.ts";
import type { ParsedSeries } from "./types.ts";

/** Options of {@linkcode parseParquetSeries}. */
export interface ParquetParseOptions {
  /** Most rows accepted. */
  maxPoints: number;
  /** `timeColumn` and `timezone` apply; `dateFormat` applies to a string time column. */
  parse?: ParseOptions;
}

type Kind = "time" | "naive_time" | "date" | "number" | "string" | "unusable";

const MS_PER_DAY = 86_400_000;
/** "PAR1" read as a little-endian 32-bit number: the last four bytes of every Parquet file. */
const PARQUET_MAGIC = 0x31524150;

/**
 * Parses a Parquet file into a column-oriented series.
 *
 * Throws `malformed_body` when the bytes are not Parquet, `invalid_input`
 * naming the columns it cannot use or when no time column is found, and
 * `payload_too_large` (from the footer, before reading any data) when the
 * file has more than `maxPoints` rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseParquetSeries } from "./parse_parquet.ts";
 * await assert.rejects(
 *   parseParquetSeries(new TextEncoder().encode("t,v\n"), { maxPoints: 10 }),
 *   /not a Parquet file/,
 * );
 * ```
 */
export async function parseParquetSeries(
  bytes: Uint8Array,
  options: ParquetParseOptions,
): Promise<ParsedSeries> {
  const parse = options.parse ?? {};
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer as ArrayBuffer
    : bytes.slice().buffer as ArrayBuffer;
  const { rows, names, timeIndex, timeKind, valueIndices, valueNames, detected } = planParquet(
    buffer,
    options,
  );

  // Values go straight into Float64Arrays (NaN for null); only a string time
  // column is kept as strings, to be read like CSV times.
  const numeric = new Map<string, Float64Array>();
  for (const i of valueIndices) numeric.set(names[i], new Float64Array(rows));
  const timeIsString = timeKind === "string";
  const rawTimes: unknown[] = timeIsString ? new Array(rows) : [];
  const timeValues = new Float64Array(rows);
  const timeName = names[timeIndex];
  try {
    await parquetRead({
      file: buffer,
      columns: [names[timeIndex], ...valueIndices.map((i) => names[i])],
      compressors,
      // Numbers, not Date objects: one allocation fewer per row. Dividing
      // after the conversion to a double avoids a BigInt division per value
      // (about 2x faster on 1M rows); below the year 9999 the error is far
      // under a millisecond.
      parsers: {
        timestampFromMilliseconds: (value: bigint) => Number(value),
        timestampFromMicroseconds: (value: bigint) => Math.trunc(Number(value) / 1000),
        timestampFromNanoseconds: (value: bigint) => Math.trunc(Number(value) / 1_000_000),
        dateFromDays: (days: number) => days * MS_PER_DAY,
      },
      onChunk(chunk) {
        const data = chunk.columnData as ArrayLike<unknown>;
        const end = Math.min(chunk.rowEnd, rows);
        const offset = chunk.rowStart;
        if (chunk.columnName === timeName && timeIsString) {
          for (let r = offset; r < end; r++) rawTimes[r] = data[r - offset];
          return;
        }
        const target = chunk.columnName === timeName ? timeValues : numeric.get(chunk.columnName);
        if (target === undefined) return;
        for (let r = offset; r < end; r++) target[r] = toNumber(data[r - offset]);
      },
    });
  } catch (error) {
    throw new AppError(
      "malformed_body",
      `The Parquet file could not be read: ${(error as Error).message}`,
      { cause: error },
    );
  }

  const notes: string[] = [];
  const zone = parse.timezone === undefined ? null : zoneConverter(parse.timezone);
  if (timeKind === "naive_time") {
    if (zone === null) {
      notes.push(
        `The timestamps in ${quoteForMessage(names[timeIndex])} carry no zone ` +
          "(isAdjustedToUTC=false) and were read as UTC; add ?timezone= to say otherwise",
      );
    }
  }
  const reader = timeIsString ? timeReader(parse) : undefined;
  const sources = valueIndices.map((i) => numeric.get(names[i]) as Float64Array);
  const timestamps = new Float64Array(rows);
  const columns = valueIndices.map(() => new Float64Array(rows));
  const rejections = createRejectionLog();
  const label = `Column "${names[timeIndex]}": `;
  let accepted = 0;
  for (let r = 0; r < rows; r++) {
    let ms: number;
    if (reader !== undefined) {
      const value = rawTimes[r];
      ms = typeof value === "string" ? reader.read(value, { start: 0, end: value.length }) : NaN;
      if (ms !== ms) {
        const reason = typeof value === "string"
          ? `${reader.explain(value)} (got ${quoteForMessage(value)})`
          : "The time is missing";
        recordRejection(rejections, { line: r + 1, reason: label + reason });
        continue;
      }
    } else {
      ms = timeValues[r];
      if (ms === ms && timeKind === "naive_time" && zone !== null) ms = zone.toInstant(ms);
      if (!(ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS)) {
        recordRejection(rejections, {
          line: r + 1,
          reason: `${label}${ms === ms ? "Outside the years 0000 to 9999" : "The time is missing"}`,
        });
        continue;
      }
    }
    for (let c = 0; c < sources.length; c++) columns[c][accepted] = sources[c][r];
    timestamps[accepted] = ms;
    accepted++;
  }

  const parsed = finishParse({
    timestamps,
    columns,
    names: valueNames,
    accepted,
    received: rows,
    rejections,
    format: "Parquet file",
  });
  if (parse.timeColumn === undefined && !detected.includes("time_column")) {
    detected.push("time_column");
  }
  const dialect: SourceDialect = {
    time_column: names[timeIndex],
    time_format: reader?.format ?? "parquet",
    timezone: parse.timezone ?? null,
    detected,
  };
  if (notes.length > 0) dialect.notes = notes;
  parsed.dialect = dialect;
  return parsed;
}

/** Options of {@linkcode checkParquetTail}. */
export type ParquetTailOptions = ParquetParseOptions;

/**
 * Checks a Parquet upload's footer at the request, from the last bytes of
 * the body (`tail`): too many rows (413), no time column, columns reportd
 * cannot use (422), or not Parquet at all (400). Says nothing when `tail` is
 * shorter than the footer: the worker then finds the same problems.
 *
 * The footer is at the end of the file, so this is the one format whose
 * request-time check looks at the last bytes rather than the first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkParquetTail } from "./parse_parquet.ts";
 * assert.throws(() => checkParquetTail(new TextEncoder().encode("not parquet"), { maxPoints: 1 }), /not a Parquet file/);
 * ```
 */
export function checkParquetTail(tail: Uint8Array, options: ParquetTailOptions): void {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  const length = tail.byteLength;
  // A footer longer than the tail (a very wide file) is left to the worker.
  const ends = length >= 8 && view.getUint32(length - 4, true) === PARQUET_MAGIC;
  if (ends && view.getUint32(length - 8, true) > length - 8) return;
  planParquet(tail, options);
}

/** What {@linkcode planParquet} decided from a file's footer. */
interface ParquetPlan {
  rows: number;
  names: string[];
  timeIndex: number;
  timeKind: Kind;
  valueIndices: number[];
  valueNames: string[];
  detected: string[];
}

/** Reads the footer and decides the time column and the value columns, or throws. */
function planParquet(buffer: ArrayBuffer | Uint8Array, options: ParquetParseOptions): ParquetPlan {
  const parse = options.parse ?? {};
  let metadata;
  try {
    metadata = parquetMetadata(buffer);
  } catch (error) {
    throw new AppError(
      "malformed_body",
      `The body is not a Parquet file: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const rows = Number(metadata.num_rows);
  if (rows > options.maxPoints) throw tooManyRows(options.maxPoints);
  if (rows === 0) throw new AppError("invalid_input", "The Parquet file has no data rows");

  const fields = parquetSchema(metadata).children;
  const kinds = fields.map(classify);
  const names = fields.map((field) => field.element.name);
  const detected: string[] = [];
  let timeIndex: number;
  if (parse.timeColumn !== undefined) {
    timeIndex = names.indexOf(parse.timeColumn);
    if (timeIndex === -1) {
      const lower = parse.timeColumn.toLowerCase();
      timeIndex = names.findIndex((name) => name.toLowerCase() === lower);
    }
  } else {
    detected.push("time_column");
    timeIndex = names.findIndex((name, i) =>
      TIME_COLUMN_NAMES.includes(name.trim().toLowerCase()) && kinds[i] !== "unusable"
    );
    if (timeIndex === -1) {
      timeIndex = kinds.findIndex((kind) =>
        kind === "time" || kind === "naive_time" || kind === "date"
      );
    }
  }
  if (timeIndex === -1) {
    const shown = names.map((name, i) => `${quoteForMessage(name)} (${kinds[i]})`).join(", ");
    const message = `No time column: a TIMESTAMP or DATE column, or one named ` +
      `${TIME_COLUMN_NAMES.join(", ")}, or ?time_column=NAME; the columns are ${shown}`;
    throw new AppError("invalid_input", message, {
      errors: [{ path: "query.time_column", message }],
    });
  }
  const timeKind = kinds[timeIndex];
  if (timeKind === "unusable" || timeKind === "number") {
    const message = `Column ${quoteForMessage(names[timeIndex])} cannot hold times ` +
      `(${describeField(fields[timeIndex])})`;
    throw new AppError("invalid_input", message, {
      errors: [{ path: "query.time_column", message }],
    });
  }
  const valueIndices = kinds.flatMap((kind, i) =>
    i !== timeIndex && kind !== "unusable" &&
      kind !== "string"
      ? [i]
      : []
  );
  const unusable = kinds.flatMap((kind, i) =>
    i !== timeIndex && (kind === "unusable" || kind === "string") ? [i] : []
  );
  if (unusable.length > 0) {
    const errors = unusable.map((i) => ({
      path: `column.${names[i]}`,
      message: `${describeField(fields[i])}: reportd keeps numeric columns only`,
    }));
    throw new AppError(
      "invalid_input",
      `The Parquet file has columns reportd cannot use: ${
        unusable.map((i) => `${quoteForMessage(names[i])} (${describeField(fields[i])})`).join(
          ", ",
        )
      }; write it without them`,
      { errors },
    );
  }
  if (valueIndices.length === 0) {
    throw new AppError("invalid_input", "The Parquet file has no numeric column besides the time");
  }
  const valueNames = validateColumnNames(valueIndices.map((i) => names[i]), { path: "columns" });
  return { rows, names, timeIndex, timeKind, valueIndices, valueNames, detected };
}

/** A decoded cell as a finite number, or NaN (null, NaN, Infinity, anything else). */
function toNumber(cell: unknown): number {
  const number = typeof cell === "number" ? cell : typeof cell === "bigint" ? Number(cell) : NaN;
  return Number.isFinite(number) ? number : NaN;
}

/** What a top-level Parquet field can be used as. */
function classify(field: SchemaTree): Kind {
  const element = field.element;
  if (field.children.length > 0 || element.repetition_type === "REPEATED") return "unusable";
  const logical = element.logical_type;
  if (logical?.type === "TIMESTAMP") return logical.isAdjustedToUTC ? "time" : "naive_time";
  if (logical?.type === "DATE" || element.converted_type === "DATE") return "date";
  if (
    element.converted_type === "TIMESTAMP_MILLIS" || element.converted_type === "TIMESTAMP_MICROS"
  ) {
    return "time";
  }
  if (element.type === "INT96") return "naive_time";
  if (logical?.type === "STRING" || element.converted_type === "UTF8") return "string";
  switch (element.type) {
    case "INT32":
    case "INT64":
    case "FLOAT":
    case "DOUBLE":
      return "number";
    case "FIXED_LEN_BYTE_ARRAY":
    case "BYTE_ARRAY":
      return logical?.type === "DECIMAL" || element.converted_type === "DECIMAL"
        ? "number"
        : "unusable";
    default:
      return "unusable";
  }
}

function describeField(field: SchemaTree): string {
  const element = field.element;
  const kind = element.logical_type?.type ?? element.converted_type;
  if (kind === "LIST" || element.repetition_type === "REPEATED") return "a list";
  if (kind === "MAP") return "a map";
  if (field.children.length > 0) return "a struct";
  const logical = element.logical_type?.type ?? element.converted_type;
  if (logical === "STRING" || logical === "UTF8") return "strings";
  return logical === undefined ? String(element.type ?? "unknown").toLowerCase() : logical;
}
