/**
 * Compensated summation, shared by resampling, rolling windows and analytics.
 *
 * @module
 */

/**
 * A running sum with Neumaier's variant of Kahan summation: the low-order
 * bits each addition loses are kept in a second accumulator and added back
 * when the value is read. Summing a million prices of similar size this way
 * is exact to the last bit or two, where a plain loop drifts by ~n x 1e-16
 * relative; it costs four extra floating-point operations per term.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CompensatedSum } from "./compensated_sum.ts";
 * const sum = new CompensatedSum();
 * for (const value of [1, 1e100, 1, -1e100]) sum.add(value);
 * assert.equal(sum.value, 2);
 * ```
 */
export class CompensatedSum {
  #sum = 0;
  #compensation = 0;

  /** Adds `value` (subtract by adding its negation). */
  add(value: number): void {
    const total = this.#sum + value;
    this.#compensation += Math.abs(this.#sum) >= Math.abs(value)
      ? (this.#sum - total) + value
      : (value - total) + this.#sum;
    this.#sum = total;
  }

  /** The sum so far. */
  get value(): number {
    return this.#sum + this.#compensation;
  }

  /** Starts again from zero. */
  reset(): void {
    this.#sum = 0;
    this.#compensation = 0;
  }
}
