/**
 * Measuring helpers shared by the benchmarks.
 *
 * @module
 */

/**
 * The `fraction` percentile of ascending `sorted` values, interpolated
 * between closest ranks; NaN for no values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percentile } from "./measure.ts";
 * assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
 * ```
 */
export function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  const rank = fraction * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/**
 * The peak resident set size of process `pid` in MB (`VmHWM`, Linux only).
 * Deno asks for --allow-all to read /proc directly, so cat reads it for us.
 */
export async function peakRssMb(pid: number): Promise<number> {
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).output();
  const status = new TextDecoder().decode(output.stdout);
  const kb = Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1]);
  return kb / 1024;
}
