/**
 * The `name` member of a JSON upload, found in the first bytes of the body.
 *
 * A JSON upload may name its report (`{"name": "Boiler room", ...}`), but the
 * body is only parsed by a worker once it is stored, so the `202` answer and
 * the list used to show "Untitled report" until processing ended. The name is
 * almost always written first; this reads the top-level members in the head
 * the upload path already holds, and stops at the first one it cannot see.
 *
 * @module
 */
import { ReportNameSchema } from "./upload_schema.ts";

/**
 * Returns the top-level `name` of the JSON object that `head` starts (a
 * prefix of the body, possibly cut anywhere), when it is a valid report name
 * and appears within `head`; undefined otherwise (the worker's full parse
 * then decides, as before).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leadingJsonName } from "./json_name.ts";
 * const head = new TextEncoder().encode('{"timestamps": [1, 2], "name": "Demo", "columns": {"v": [1');
 * assert.equal(leadingJsonName(head), "Demo");
 * assert.equal(leadingJsonName(new TextEncoder().encode('{"columns": {"name": "x"}')), undefined);
 * ```
 */
export function leadingJsonName(head: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(head);
  let at = skipSpace(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (text[at] !== "{") return undefined;
  at++;
  for (;;) {
    at = skipSpace(text, at);
    if (text[at] !== '"') return undefined;
    const keyEnd = stringEnd(text, at);
    if (keyEnd === -1) return undefined;
    const key = parseString(text.slice(at, keyEnd));
    at = skipSpace(text, keyEnd);
    if (text[at] !== ":") return undefined;
    at = skipSpace(text, at + 1);
    if (key === "name") {
      if (text[at] !== '"') return undefined;
      const end = stringEnd(text, at);
      if (end === -1) return undefined;
      const parsed = ReportNameSchema.safeParse(parseString(text.slice(at, end)));
      return parsed.success ? parsed.data : undefined;
    }
    at = valueEnd(text, at);
    if (at === -1) return undefined;
    at = skipSpace(text, at);
    if (text[at] !== ",") return undefined;
    at++;
  }
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && " \t\r\n".includes(text[at])) at++;
  return at;
}

/** The index just past the string starting at `at` (a quote), or -1 when it does not end. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  return -1;
}

function parseString(literal: string): string | undefined {
  try {
    return JSON.parse(literal);
  } catch {
    return undefined;
  }
}

/** The index just past the value starting at `at`, or -1 when it does not end within `text`. */
function valueEnd(text: string, at: number): number {
  if (text[at] === '"') return stringEnd(text, at);
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      i = stringEnd(text, i) - 1;
      if (i < 0) return -1;
    } else if (char === "{" || char === "[") {
      depth++;
    } else if (char === "}" || char === "]") {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (char === "," && depth === 0) {
      return i;
    }
  }
  return -1;
}
