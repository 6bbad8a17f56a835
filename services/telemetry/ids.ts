/**
 * Trace and span ids from a pool of cryptographic randomness.
 *
 * The SDK's default generator calls `Math.random()` and formats through a
 * Node `Buffer` for every id; on the read path that was a visible share of a
 * request's cost. Here 4 KiB of `crypto.getRandomValues()` serve 170 spans,
 * and hex comes from a lookup table. W3C Trace Context forbids all-zero ids;
 * one is drawn again (a chance of 2^-64 or less).
 *
 * @module
 */
import type { IdGenerator } from "@opentelemetry/sdk-trace";

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
const pool = new Uint8Array(4096);
let offset = pool.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > pool.length) {
      crypto.getRandomValues(pool);
      offset = 0;
    }
    let hex = "";
    let nonZero = false;
    for (let i = 0; i < bytes; i++) {
      const byte = pool[offset++];
      nonZero ||= byte !== 0;
      hex += HEX[byte];
    }
    if (nonZero) return hex;
  }
}

/**
 * Ids for the tracer provider: 16 random bytes per trace, 8 per span, as
 * lowercase hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { POOLED_ID_GENERATOR } from "./ids.ts";
 * assert.match(POOLED_ID_GENERATOR.generateTraceId(), /^[0-9a-f]{32}$/);
 * assert.match(POOLED_ID_GENERATOR.generateSpanId(), /^[0-9a-f]{16}$/);
 * ```
 */
export const POOLED_ID_GENERATOR: IdGenerator = {
  generateTraceId(): string {
    return randomHex(16);
  },
  generateSpanId(): string {
    return randomHex(8);
  },
};
