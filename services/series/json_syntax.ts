/**
 * Locates the first syntax error in a JSON text, for error messages.
 *
 * `JSON.parse` reports a position for some errors only ("Unexpected token 'x',
 * "..." is not valid JSON" has none), so after it fails this scanner walks the
 * text once (RFC 8259 grammar, no values built, no recursion) to say where.
 *
 * @module
 */

/** Where and why a JSON text stops being valid. */
export interface JsonSyntaxError {
  /** 0-based character offset of the problem (the text length for a premature end). */
  offset: number;
  /** 1-based line of `offset`. */
  line: number;
  /** 1-based column of `offset`. */
  column: number;
  /** What is wrong, e.g. `Expected ',' or ']'`. */
  reason: string;
}

const ARRAY = 1;
const OBJECT = 2;

const VALUE = 0;
const VALUE_OR_CLOSE = 1;
const AFTER_VALUE = 2;
const KEY_OR_CLOSE = 3;
const KEY = 4;
const COLON = 5;

/**
 * Returns the first syntax error of `text`, or `null` when it is valid JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { locateJsonSyntaxError } from "./json_syntax.ts";
 * assert.deepEqual(locateJsonSyntaxError('{"a": [1,\n 2 3]}'), {
 *   offset: 13,
 *   line: 2,
 *   column: 4,
 *   reason: "Expected ',' or ']'",
 * });
 * assert.equal(locateJsonSyntaxError('{"a": [1, 2]}'), null);
 * ```
 */
export function locateJsonSyntaxError(text: string): JsonSyntaxError | null {
  const n = text.length;
  const stack: number[] = [];
  let state = VALUE;
  let i = 0;
  while (true) {
    i = skipWhitespace(text, i);
    if (i >= n) {
      return state === AFTER_VALUE && stack.length === 0
        ? null
        : syntaxError(text, { offset: n, reason: "Unexpected end of input" });
    }
    const c = text[i];
    if (state === VALUE || state === VALUE_OR_CLOSE) {
      if (state === VALUE_OR_CLOSE && c === "]") {
        stack.pop();
        i++;
        state = AFTER_VALUE;
      } else if (c === "{") {
        stack.push(OBJECT);
        i++;
        state = KEY_OR_CLOSE;
      } else if (c === "[") {
        stack.push(ARRAY);
        i++;
        state = VALUE_OR_CLOSE;
      } else {
        const end = scanScalar(text, i);
        if (end.reason !== "") return syntaxError(text, end);
        i = end.offset;
        state = AFTER_VALUE;
      }
    } else if (state === AFTER_VALUE) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        return syntaxError(text, { offset: i, reason: "Unexpected text after the JSON value" });
      }
      const close = top === ARRAY ? "]" : "}";
      if (c === ",") {
        i++;
        state = top === ARRAY ? VALUE : KEY;
      } else if (c === close) {
        stack.pop();
        i++;
      } else {
        return syntaxError(text, { offset: i, reason: `Expected ',' or '${close}'` });
      }
    } else if (state === KEY_OR_CLOSE && c === "}") {
      stack.pop();
      i++;
      state = AFTER_VALUE;
    } else if (state === KEY || state === KEY_OR_CLOSE) {
      if (c !== '"') {
        return syntaxError(text, { offset: i, reason: "Expected a double-quoted property name" });
      }
      const end = scanString(text, i);
      if (end.reason !== "") return syntaxError(text, end);
      i = end.offset;
      state = COLON;
    } else {
      if (c !== ":") return syntaxError(text, { offset: i, reason: "Expected ':'" });
      i++;
      state = VALUE;
    }
  }
}

/** A scan result: the offset after the token, or of the problem when `reason` is set. */
interface ScanEnd {
  offset: number;
  reason: string;
}

function syntaxError(text: string, end: ScanEnd): JsonSyntaxError {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end.offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { offset: end.offset, line, column: end.offset - lineStart + 1, reason: end.reason };
}

function skipWhitespace(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** Scans a string, number or literal starting at `i`. */
function scanScalar(text: string, i: number): ScanEnd {
  const c = text[i];
  if (c === '"') return scanString(text, i);
  if (c === "-" || (c >= "0" && c <= "9")) return scanNumber(text, i);
  for (const literal of ["true", "false", "null"]) {
    if (text.startsWith(literal, i)) return { offset: i + literal.length, reason: "" };
  }
  return { offset: i, reason: `Unexpected character ${JSON.stringify(c)}` };
}

function scanString(text: string, i: number): ScanEnd {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return { offset: i + 1, reason: "" };
    if (c < 32) return { offset: i, reason: "Unescaped control character in a string" };
    if (c === 92) {
      const escape = text[i + 1];
      if (escape === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          return { offset: i, reason: "Bad \\u escape in a string" };
        }
        i += 5;
      } else if (escape !== undefined && '"\\/bfnrt'.includes(escape)) {
        i++;
      } else {
        return { offset: i, reason: "Bad escape in a string" };
      }
    }
  }
  return { offset: text.length, reason: "Unterminated string" };
}

function scanNumber(text: string, i: number): ScanEnd {
  const match = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  match.lastIndex = i;
  const found = match.exec(text);
  if (found === null) return { offset: i, reason: "Bad number" };
  const end = i + found[0].length;
  // A number must not run straight into more digits or number characters.
  if (end < text.length && /[0-9.eE+-]/.test(text[end])) {
    return { offset: end, reason: "Bad number" };
  }
  return { offset: end, reason: "" };
}
