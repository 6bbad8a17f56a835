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
import { checkCsvHead } from "./parse_csv.ts";
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
export function checkLineCount(count: LineCount, options: { maxPoints: number }): void {
  const breaks = Math.max(count.lf, count.cr);
  // A last line without a trailing break is one more line than the breaks.
  if (breaks - 1 > options.maxPoints) {
    throw new AppError(
      "payload_too_large",
      `The CSV has more than ${options.maxPoints} data rows (REPORTD_MAX_POINTS)`,
    );
  }
}

/**
 * Checks the first bytes of an upload (`complete` when they are the whole
 * body). CSV: the header must name a timestamp column and at least one value
 * column, and a complete body needs a data row. JSON: the body must start
 * with an object.
 */
export function checkUploadHead(
  head: Uint8Array,
  options: { format: UploadFormat; complete: boolean },
): void {
  const text = new TextDecoder().decode(head, { stream: !options.complete });
  if (options.format === "csv") {
    checkCsvHead(text, { complete: options.complete });
    return;
  }
  const first = text.replace(/^\uFEFF/, "").trimStart()[0];
  if (first === undefined) {
    if (options.complete) throw new AppError("malformed_body", "The body is empty");
  } else if (first !== "{") {
    const looksLikeJson = /["\[\d\-tfn]/.test(first);
    throw looksLikeJson
      ? new AppError("invalid_input", "The body must be a JSON object", {
        errors: [{ path: "body", message: "Expected an object with timestamps or points" }],
      })
      : new AppError("malformed_body", "The body is not valid JSON");
  }
}
