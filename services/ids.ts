/**
 * Report ids: UUIDv7 (RFC 9562), time-ordered.
 *
 * The first 48 bits are the Unix time in milliseconds, so sorting ids sorts
 * reports by creation time: the primary key doubles as the listing order and
 * the pagination cursor, and new rows append to the end of the B-tree.
 *
 * @module
 */

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// Monotonic within one process: ids made in the same millisecond use the
// 12-bit rand_a field as a counter (RFC 9562, section 6.2, method 1), so they
// still sort in the order they were made.
let lastMs = -1;
let sequence = 0;

/**
 * Returns a new lowercase UUIDv7 string, strictly greater than the previous
 * one made by this process.
 *
 * @example
 * ```ts
 * import { isUuid, uuidv7 } from "./ids.ts";
 * const a = uuidv7();
 * const b = uuidv7();
 * console.assert(isUuid(a) && a < b);
 * ```
 */
export function uuidv7(options: { now?: number } = {}): string {
  let ms = Math.trunc(options.now ?? Date.now());
  if (ms <= lastMs) {
    ms = lastMs;
    sequence += 1;
    if (sequence > 0xfff) {
      ms += 1;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** Returns whether `value` is a lowercase UUID string (any version). */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
