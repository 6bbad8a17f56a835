/**
 * Strict text-to-number conversion for value cells.
 *
 * `Number()` accepts `Infinity`, `0x10`, `0b1` and whitespace-only strings, and
 * `parseFloat()` accepts trailing garbage (`12abc`), so both would let bad data
 * into a report. This module accepts only decimal and scientific literals and
 * works on a range of a larger string so that a CSV parser never has to cut a
 * substring per cell.
 *
 * @module
 */

/**
 * What {@linkcode numberInRange} returns for a cell that is not a finite
 * decimal number.
 *
 * Infinity can never be a valid value (non-finite numbers are rejected), so it
 * can signal a rejection without allocating a result object per cell.
 */
export const INVALID_NUMBER: number = Number.POSITIVE_INFINITY;

/**
 * A half-open range `[start, end)` of character indices in a string: one cell
 * of a larger text. Callers on a hot path reuse one mutable range per loop.
 */
export interface TextRange {
  /** Index of the first character. */
  start: number;
  /** Index after the last character. */
  end: number;
}

/** The outcome of {@linkcode parseNumberCell}. */
export type NumberCellResult =
  | { ok: true; value: number }
  | { ok: false; reason: string };

const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;
const SPACE = 32;
const TAB = 9;

/** Most significant digits that always fit exactly in a double's 53-bit mantissa. */
const MAX_EXACT_DIGITS = 15;

/** Powers of ten that doubles represent exactly (10^0 .. 10^22). */
const EXACT_POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * Converts the characters of `text` in `range` to a number without cutting a
 * substring.
 *
 * Leading and trailing spaces and tabs are ignored. Returns `NaN` for an empty
 * cell (a missing value), {@linkcode INVALID_NUMBER} for anything that is not a
 * finite decimal or scientific literal, else the value.
 *
 * @example Classify cells
 * ```ts
 * import assert from "node:assert/strict";
 * import { INVALID_NUMBER, numberInRange } from "./numbers.ts";
 * const row = "2020-01-10,-3.5e2, ,0x10";
 * assert.equal(numberInRange(row, { start: 11, end: 17 }), -350);
 * assert.ok(Number.isNaN(numberInRange(row, { start: 18, end: 19 })));
 * assert.equal(numberInRange(row, { start: 20, end: 24 }), INVALID_NUMBER);
 * ```
 */
export function numberInRange(text: string, range: TextRange): number {
  let start = range.start;
  let end = range.end;
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  if (start === end) return NaN;

  let i = start;
  let c = text.charCodeAt(i);
  let negative = false;
  if (c === PLUS || c === MINUS) {
    negative = c === MINUS;
    i++;
  }

  let mantissa = 0;
  let significant = 0;
  let scale = 0;
  let digits = 0;
  let exact = true;

  for (; i < end; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) break;
    digits++;
    if (mantissa === 0 && d === 0) continue;
    if (significant < MAX_EXACT_DIGITS) {
      mantissa = mantissa * 10 + d;
      significant++;
    } else {
      // Digits past the exact range only shift the magnitude on the fast path;
      // the slow path below re-reads them for correct rounding.
      exact = false;
      scale++;
    }
  }
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    for (; i < end; i++) {
      const d = text.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) break;
      digits++;
      if (mantissa === 0 && d === 0) {
        scale--;
        continue;
      }
      if (significant < MAX_EXACT_DIGITS) {
        mantissa = mantissa * 10 + d;
        significant++;
        scale--;
      } else {
        exact = false;
      }
    }
  }
  if (digits === 0) return INVALID_NUMBER;

  if (i < end) {
    c = text.charCodeAt(i);
    if (c !== LOWER_E && c !== UPPER_E) return INVALID_NUMBER;
    i++;
    let exponentNegative = false;
    if (i < end) {
      c = text.charCodeAt(i);
      if (c === PLUS || c === MINUS) {
        exponentNegative = c === MINUS;
        i++;
      }
    }
    let exponent = 0;
    let exponentDigits = 0;
    for (; i < end; i++) {
      const d = text.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) return INVALID_NUMBER;
      exponentDigits++;
      // Clamp so a huge exponent cannot overflow; it is out of range anyway.
      if (exponent < 100_000) exponent = exponent * 10 + d;
    }
    if (exponentDigits === 0) return INVALID_NUMBER;
    scale += exponentNegative ? -exponent : exponent;
  }

  if (mantissa === 0) return negative ? -0 : 0;
  if (exact && scale >= -22 && scale <= 22) {
    // Clinger's fast path: both operands are exact, so one IEEE operation
    // rounds correctly.
    const value = scale >= 0
      ? mantissa * EXACT_POWERS_OF_TEN[scale]
      : mantissa / EXACT_POWERS_OF_TEN[-scale];
    if (Number.isFinite(value)) return negative ? -value : value;
    return INVALID_NUMBER;
  }
  const value = Number(text.slice(start, end));
  return Number.isFinite(value) ? value : INVALID_NUMBER;
}

/**
 * Converts one cell to a number with the rules of {@linkcode numberInRange}.
 *
 * An empty or blank cell is `{ ok: true, value: NaN }` (missing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNumberCell } from "./numbers.ts";
 * assert.deepEqual(parseNumberCell(" +2 "), { ok: true, value: 2 });
 * assert.deepEqual(parseNumberCell("1e309"), {
 *   ok: false,
 *   reason: '"1e309" is not a finite number',
 * });
 * ```
 */
export function parseNumberCell(value: string): NumberCellResult {
  const parsed = numberInRange(value, { start: 0, end: value.length });
  if (parsed === INVALID_NUMBER) {
    return { ok: false, reason: `${quoteForMessage(value)} is not a finite number` };
  }
  return { ok: true, value: parsed };
}

/** Longest cell text echoed back in a rejection reason. */
const MAX_ECHO = 40;

/**
 * Quotes a cell for a rejection reason, truncated so one huge cell cannot
 * bloat a report.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quoteForMessage } from "./numbers.ts";
 * assert.equal(quoteForMessage("abc"), '"abc"');
 * assert.equal(quoteForMessage("x".repeat(50)), `"${"x".repeat(40)}..."`);
 * ```
 */
export function quoteForMessage(text: string): string {
  return text.length > MAX_ECHO ? `"${text.slice(0, MAX_ECHO)}..."` : `"${text}"`;
}

/**
 * True for the blanks trimmed around cells: a space or a tab (char codes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBlank } from "./numbers.ts";
 * assert.ok(isBlank(9) && isBlank(32) && !isBlank(65));
 * ```
 */
export function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}
