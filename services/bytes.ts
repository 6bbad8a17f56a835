/**
 * Byte helpers shared by the code that reads bodies in chunks (uploads,
 * upstream responses).
 *
 * @module
 */

/**
 * Joins `parts` into one new buffer of `length` bytes (their total length
 * unless given), copying each part once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatBytes } from "./bytes.ts";
 * assert.deepEqual(concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]), new Uint8Array([1, 2, 3]));
 * ```
 */
export function concatBytes(parts: Uint8Array[], length?: number): Uint8Array {
  const joined = new Uint8Array(length ?? parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}
