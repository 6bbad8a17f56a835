/**
 * Rules and bookkeeping shared by the CSV and JSON parsers, so both formats
 * name columns, reject rows and report limits the same way.
 *
 * @module
 */

import { AppError } from "../errors.ts";
import type { ParsedSeries, RejectedRow } from "./types.ts";

/** How many rejected rows are kept as examples; the rest are only counted. */
export const MAX_REJECTED_EXAMPLES = 10;

/**
 * Every download's first column is called `timestamp`, so a value column of
 * that name could not be uploaded again.
 */
const RESERVED_NAME = "timestamp";

/** Rejected rows seen so far: a count plus the first few examples. */
export interface RejectionLog {
  /** Rows rejected so far. */
  count: number;
  /** The first {@linkcode MAX_REJECTED_EXAMPLES} rejected rows. */
  examples: RejectedRow[];
}

/**
 * Creates an empty {@linkcode RejectionLog}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRejectionLog, recordRejection } from "./parse_common.ts";
 * const log = createRejectionLog();
 * for (let line = 2; line < 20; line++) recordRejection(log, { line, reason: "Bad" });
 * assert.equal(log.count, 18);
 * assert.equal(log.examples.length, 10);
 * ```
 */
export function createRejectionLog(): RejectionLog {
  return { count: 0, examples: [] };
}

/** Counts a rejected row and keeps it as an example while there is room. */
export function recordRejection(log: RejectionLog, row: RejectedRow): void {
  log.count++;
  if (log.examples.length < MAX_REJECTED_EXAMPLES) log.examples.push(row);
}

/** Options of {@linkcode validateColumnNames}. */
export interface ColumnNameOptions {
  /** Field path reported with a bad name, e.g. `header` or `columns`. */
  path: string;
}

/**
 * Trims value-column names and checks that each is non-empty, unique and not
 * `timestamp`; throws an `invalid_input` {@linkcode AppError} naming the column.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateColumnNames } from "./parse_common.ts";
 * assert.deepEqual(validateColumnNames([" a ", "b"], { path: "header" }), ["a", "b"]);
 * assert.throws(() => validateColumnNames(["a", "a"], { path: "header" }), /"a" appears twice/);
 * ```
 */
export function validateColumnNames(
  rawNames: readonly string[],
  options: ColumnNameOptions,
): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const raw of rawNames) {
    const name = raw.trim();
    let message = "";
    if (name === "") {
      message = `Column ${names.length + 1} after the timestamp has an empty name`;
    } else if (seen.has(name)) {
      message = `Column "${name}" appears twice`;
    } else if (name === RESERVED_NAME) {
      message = `Column name "${RESERVED_NAME}" is reserved for the time column`;
    }
    if (message !== "") {
      throw new AppError("invalid_input", message, {
        errors: [{ path: options.path, message }],
      });
    }
    seen.add(name);
    names.push(name);
  }
  return names;
}

/**
 * The error for an upload with more data rows than allowed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tooManyRows } from "./parse_common.ts";
 * assert.equal(tooManyRows(5).kind, "payload_too_large");
 * ```
 */
export function tooManyRows(maxPoints: number): AppError {
  return new AppError(
    "payload_too_large",
    `The upload has more than ${maxPoints} data rows, the most a report can hold`,
  );
}

/** What a parser hands to {@linkcode finishParse}. */
export interface ParseOutcome {
  /** Accepted timestamps; only the first `accepted` entries are used. */
  timestamps: Float64Array;
  /** Value columns, parallel to `timestamps`. */
  columns: Float64Array[];
  /** Validated column names. */
  names: string[];
  /** Accepted rows. */
  accepted: number;
  /** Data rows seen. */
  received: number;
  /** Rejected rows. */
  rejections: RejectionLog;
  /** Report name from the body, if any. */
  name?: string;
  /** How the format calls itself in messages, e.g. `CSV`. */
  format: string;
}

/**
 * Turns a parser's buffers into a {@linkcode ParsedSeries}, trimming them to
 * the accepted rows, or throws `invalid_input` when there is nothing to keep.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRejectionLog, finishParse } from "./parse_common.ts";
 * const parsed = finishParse({
 *   timestamps: new Float64Array([0, 1000, 0]),
 *   columns: [new Float64Array([1, 2, 0])],
 *   names: ["value"],
 *   accepted: 2,
 *   received: 2,
 *   rejections: createRejectionLog(),
 *   format: "CSV",
 * });
 * assert.deepEqual([...parsed.series.timestamps], [0, 1000]);
 * ```
 */
export function finishParse(outcome: ParseOutcome): ParsedSeries {
  const { accepted, received, rejections, format } = outcome;
  if (received === 0) {
    throw new AppError("invalid_input", `The ${format} has no data rows`);
  }
  if (accepted === 0) {
    const first = rejections.examples[0];
    throw new AppError(
      "invalid_input",
      `No valid rows: all ${rejections.count} data rows were rejected, e.g. line ${first.line}: ${first.reason}`,
      // The examples travel with the error, so a failed report shows them.
      {
        errors: rejections.examples.map((example) => ({
          path: `line.${example.line}`,
          message: example.reason,
        })),
      },
    );
  }
  const parsed: ParsedSeries = {
    series: {
      timestamps: fitLength(outcome.timestamps, accepted),
      names: outcome.names,
      columns: outcome.columns.map((column) => fitLength(column, accepted)),
    },
    received,
    rejected: rejections.count,
    rejectedExamples: rejections.examples,
  };
  if (outcome.name !== undefined) parsed.name = outcome.name;
  return parsed;
}

/**
 * Copies when the buffer is longer than needed, so callers get arrays whose
 * `.buffer` holds exactly the data (safe to store or transfer as is).
 */
function fitLength(values: Float64Array, length: number): Float64Array {
  return values.length === length ? values : values.slice(0, length);
}
