/**
 * Cheap checks on an upload while it streams in, before it is stored.
 *
 * The series itself is parsed later, in a worker; these checks look only at
 * the first bytes and count line breaks, so a client still gets an immediate
 * 4xx for the common mistakes (a wrong header, an empty file, too many lines,
 * a body that is not a JSON object) without the main thread parsing anything
 * large. What they cannot decide is left to the worker.
 *
 * @module
 */
import { AppError } from "../errors.ts";
import type { ParseOptions } from "./dialect.ts";
import { checkCsvHead } from "./parse_csv.ts";
import { checkNdjsonHead, checkRecordsHead } from "./parse_json.ts";
import { checkParquetTail } from "./parse_parquet.ts";
import type { UploadFormat } from "./types.ts";

/** How much of the body the head checks look at. */
export const HEAD_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/** Line breaks seen so far in a streamed body; see {@linkcode countLineBreaks}. */
export interface LineCount {
  /** `\n` bytes. */
  lf: number;
  /** `\r` bytes. */
  cr: number;
}

/**
 * Adds the line breaks in `chunk` to `count`. A CSV has at most
 * `max(lf, cr) + 1` lines whether it uses LF, CRLF or CR endings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countLineBreaks } from "./preflight.ts";
 * const count = { lf: 0, cr: 0 };
 * countLineBreaks(count, new TextEncoder().encode("a\r\nb\r\n"));
 * assert.deepEqual(count, { lf: 2, cr: 2 });
 * ```
 */
export function countLineBreaks(count: LineCount, chunk: Uint8Array): void {
  let lf = 0;
  let cr = 0;
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i];
    if (byte === LF) lf++;
    else if (byte === CR) cr++;
  }
  count.lf += lf;
  count.cr += cr;
}

/**
 * Throws `payload_too_large` when a CSV has more lines than a header plus
 * `maxPoints` rows could fill. Blank lines and line breaks inside quoted cells
 * count too, so a file within a few rows of the limit may be refused here;
 * the worker applies the exact limit to everything else.
 */
export function checkLineCount(
  count: LineCount,
  options: { maxPoints: number; format?: string },
): void {
  const breaks = Math.max(count.lf, count.cr);
  // A last line without a trailing break is one more line than the breaks.
  if (breaks - 1 > options.maxPoints) {
    throw new AppError(
      "payload_too_large",
      `The ${
        options.format === "ndjson" ? "NDJSON" : "CSV"
      } has more than ${options.maxPoints} data rows (REPORTD_MAX_POINTS)`,
    );
  }
}

/** Options of {@linkcode checkUploadHead}. */
export interface UploadHeadOptions {
  /** How the body is encoded. */
  format: UploadFormat;
  /** True when the head is the whole body. */
  complete: boolean;
  /** What the client said about the file. */
  parse?: ParseOptions;
}

/** The four bytes every Parquet file starts (and ends) with. */
const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31];

/**
 * Checks the first bytes of an upload (`complete` when they are the whole
 * body). CSV: the header must have a time column and a value column, the
 * times must not be ambiguous or lack a zone, and a complete body needs a
 * data row. JSON: the body must start with an object or an array. NDJSON:
 * the first lines must be objects with a time key. Parquet: the magic bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkUploadHead } from "./preflight.ts";
 * const head = new TextEncoder().encode("date;value\n03/04/2020;1\n");
 * assert.throws(() => checkUploadHead(head, { format: "csv", complete: true }), /date_format/);
 * ```
 */
export function checkUploadHead(head: Uint8Array, options: UploadHeadOptions): void {
  if (options.format === "parquet") {
    if (!PARQUET_MAGIC.every((byte, i) => head[i] === byte) && head.length >= 4) {
      throw new AppError("malformed_body", "The body is not a Parquet file (no PAR1 magic bytes)");
    }
    if (options.complete && head.length < 12) {
      throw new AppError("malformed_body", "The body is too short to be a Parquet file");
    }
    return;
  }
  const text = decodeHead(head, options.complete);
  if (options.format === "csv") {
    checkCsvHead(text, { complete: options.complete, parse: options.parse });
    return;
  }
  if (options.format === "ndjson") {
    checkNdjsonHead(text, { complete: options.complete, parse: options.parse });
    return;
  }
  const trimmed = text.replace(/^\uFEFF/, "").trimStart();
  const first = trimmed[0];
  if (first === "[") {
    // pandas orient="records": an array of row objects.
    const element = trimmed.slice(1).trimStart()[0];
    if (element !== undefined && element !== "{" && element !== "]") {
      throw new AppError("invalid_input", "The JSON array must hold row objects", {
        errors: [{ path: "body", message: 'Expected row objects (pandas orient="records")' }],
      });
    }
    checkRecordsHead(trimmed, { parse: options.parse });
    return;
  }
  if (first === undefined) {
    if (options.complete) throw new AppError("malformed_body", "The body is empty");
  } else if (first !== "{" && first !== "[") {
    const looksLikeJson = /["\d\-tfn]/.test(first);
    throw looksLikeJson
      ? new AppError("invalid_input", "The body must be a JSON object or an array of rows", {
        errors: [{
          path: "body",
          message: "Expected an object with timestamps or points, or an array of row objects",
        }],
      })
      : new AppError("malformed_body", "The body is not valid JSON");
  }
}

/** How much of the end of a Parquet body the footer check keeps. */
export const TAIL_BYTES = 64 * 1024;

/**
 * Checks the last bytes of an upload once it has all arrived: for Parquet,
 * the footer (row count, time column, column types; see `parse_parquet.ts`).
 * Other formats have nothing at their end worth a look.
 */
export function checkUploadTail(
  tail: Uint8Array,
  options: { format: UploadFormat; maxPoints: number; parse?: ParseOptions },
): void {
  if (options.format === "parquet") {
    checkParquetTail(tail, { maxPoints: options.maxPoints, parse: options.parse });
  }
}

/** Decodes a head by its byte order mark (UTF-16) or as UTF-8, without failing on a cut character. */
function decodeHead(head: Uint8Array, complete: boolean): string {
  const label = head[0] === 0xff && head[1] === 0xfe
    ? "utf-16le"
    : head[0] === 0xfe && head[1] === 0xff
    ? "utf-16be"
    : "utf-8";
  return new TextDecoder(label).decode(head, { stream: !complete });
}
