/**
 * Test and benchmark data: CSV series of a given size, made deterministically.
 *
 * @module
 */

/** Options for {@linkcode generateCsv}. */
export interface GenerateOptions {
  /** First timestamp, Unix seconds (default 2020-01-01). */
  startSeconds?: number;
  /** Seconds between rows (default 60). */
  stepSeconds?: number;
}

/**
 * Makes a `timestamp,value` CSV of `rows` rows with epoch-second timestamps
 * and a smooth value with some noise; 1,000,000 rows is about 21 MB.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateCsv } from "./generate.ts";
 * assert.equal(generateCsv(2).split("\n").length, 4);
 * ```
 */
export function generateCsv(rows: number, options: GenerateOptions = {}): string {
  const start = options.startSeconds ?? 1577836800;
  const step = options.stepSeconds ?? 60;
  const lines = new Array<string>(rows + 1);
  lines[0] = "timestamp,value";
  for (let i = 0; i < rows; i++) {
    // A deterministic pseudo-noise keeps runs comparable without a seeded RNG.
    const value = 1000 + 100 * Math.sin(i / 500) + ((i * 7919) % 1000) / 100;
    lines[i + 1] = `${start + i * step},${value.toFixed(4)}`;
  }
  return lines.join("\n") + "\n";
}
