/**
 * The column statistics against exact rational arithmetic (BigInt): every
 * double is an integer multiple of 2^-1074, so sums, means and variances of
 * doubles are exact fractions, and the computed mean, standard deviation and
 * percentiles can be held to a relative error, not just "close enough".
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { columnStats } from "../../services/series/stats.ts";

/** The largest relative error allowed (issue 12: at most 1e-12). */
const TOLERANCE_DIGITS = 12n;
const TEN_TO_TOLERANCE = 10n ** TOLERANCE_DIGITS;

/** `x` as an exact integer multiple of 2^-1074. */
function units(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  assert.notEqual(exponent, 0x7ff, "only finite values");
  // Subnormals have exponent field 0 and no implicit bit; both are scaled
  // so that one unit is 2^-1074.
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const shift = BigInt(Math.max(exponent, 1) - 1);
  const value = mantissa << shift;
  return negative ? -value : value;
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** Exact sums of the values and of their squares, in units of 2^-1074 (2^-2148). */
function exactMoments(values: number[]): { n: bigint; sum: bigint; squares: bigint } {
  let sum = 0n;
  let squares = 0n;
  for (const value of values) {
    const u = units(value);
    sum += u;
    squares += u * u;
  }
  return { n: BigInt(values.length), sum, squares };
}

/**
 * Asserts |computed mean - exact mean| <= 1e-12 |exact mean|, or at most one
 * unit of 2^-1074 (a subnormal mean cannot be closer than its spacing).
 */
function assertMeanExact(values: number[], mean: number | null): void {
  assert.notEqual(mean, null, "The mean is representable, so it is a number");
  const { n, sum } = exactMoments(values);
  // mean - sum / n, in units: (n * M - S) / n.
  const error = abs(n * units(mean!) - sum);
  assert.ok(
    error * TEN_TO_TOLERANCE <= abs(sum) || error <= n,
    `mean ${mean}: relative error above 1e-${TOLERANCE_DIGITS}`,
  );
}

/**
 * Asserts the computed standard deviation's square is within 2e-12 of the
 * exact sample variance (so the deviation itself is within 1e-12), or the
 * deviation within one unit of 2^-1074 of the exact one when it is subnormal.
 */
function assertDeviationExact(values: number[], stddev: number | null): void {
  const { n, sum, squares } = exactMoments(values);
  // Sample variance in units of 2^-2148: (n Q - S^2) / (n (n - 1)).
  const numerator = n * squares - sum * sum;
  const denominator = n * (n - 1n);
  assert.notEqual(stddev, null, "The deviation is representable, so it is a number");
  const s = units(stddev!);
  const error = abs(s * s * denominator - numerator);
  // (s + 1)^2 - s^2 = 2s + 1 units: the spacing of subnormal deviations.
  const spacing = (2n * s + 1n) * denominator;
  assert.ok(
    error * TEN_TO_TOLERANCE <= 2n * numerator || error <= spacing,
    `stddev ${stddev}: relative error above 1e-${TOLERANCE_DIGITS}`,
  );
}

/** True when the exact sample deviation fits in a double (below 2^1024). */
function deviationIsFinite(values: number[]): boolean {
  const { n, sum, squares } = exactMoments(values);
  const variance = (n * squares - sum * sum) / (n * (n - 1n));
  // In units of 2^-2148: a deviation below 2^1024 has a variance below 2^(2048 + 2148).
  return variance < 1n << 4196n;
}

/** A small deterministic generator (mulberry32), so the data set is the same every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("5,000 values of 1e9 + U(0,1): mean and deviation exact to 1e-12", () => {
  const next = random(12);
  const values = Array.from({ length: 5000 }, () => 1e9 + next());
  const stats = columnStats(Float64Array.from(values));
  assertMeanExact(values, stats.mean);
  assertDeviationExact(values, stats.stddev);
});

Deno.test("large offsets with tiny spreads stay exact (1e15, 1e300, -1e-300)", () => {
  const next = random(7);
  for (const [offset, spread] of [[1e15, 1], [1e300, 1e285], [-1e-300, 1e-310], [1e-5, 1e-20]]) {
    const values = Array.from({ length: 1000 }, () => offset + spread * next());
    const stats = columnStats(Float64Array.from(values));
    assertMeanExact(values, stats.mean);
    assertDeviationExact(values, stats.stddev);
  }
});

Deno.test("values near the double range: representable statistics are finite", () => {
  const values = [1.7e308, -1.7e308, 1e308, -1e308];
  const stats = columnStats(Float64Array.from(values));
  assert.equal(stats.mean, 0);
  assert.equal(stats.p50, 0);
  assertDeviationExact(values, stats.stddev);
  assert.ok(Math.abs(stats.stddev! / 1.6103829772241552e308 - 1) < 1e-12, String(stats.stddev));
  // Their difference is 3.4e308, not a double: that one stays null.
  assert.equal(columnStats(Float64Array.of(-1.7e308, 1.7e308)).change, null);
  // ...but the change in percent is 200 %.
  assert.equal(columnStats(Float64Array.of(-1.7e308, 1.7e308)).change_pct, 200);
  // Huge values that cancel leave a tiny one its due.
  const cancelling = [1.7e308, 1.7e308, -1.7e308, -1.7e308, 3e-300];
  assertMeanExact(cancelling, columnStats(Float64Array.from(cancelling)).mean);
});

const anyFinite = fc.double({ noNaN: true, noDefaultInfinity: true });

Deno.test("property: mean and deviation are exact to 1e-12 with large offsets", () => {
  fc.assert(
    fc.property(
      fc.double({ min: -1e12, max: 1e12, noNaN: true }),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 200 }),
      (offset, noise) => {
        const values = noise.map((value) => offset + value);
        const stats = columnStats(Float64Array.from(values));
        assertMeanExact(values, stats.mean);
        if (
          exactMoments(values).n * exactMoments(values).squares !== exactMoments(values).sum ** 2n
        ) {
          assertDeviationExact(values, stats.stddev);
        } else {
          assert.equal(stats.stddev, 0);
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: any finite doubles give finite, exact statistics when they fit", () => {
  fc.assert(
    fc.property(fc.array(anyFinite, { minLength: 2, maxLength: 50 }), (values) => {
      const stats = columnStats(Float64Array.from(values));
      assertMeanExact(values, stats.mean);
      const { n, sum, squares } = exactMoments(values);
      if (n * squares === sum * sum) {
        assert.equal(stats.stddev, 0);
      } else if (deviationIsFinite(values)) {
        assertDeviationExact(values, stats.stddev);
      } else {
        assert.equal(stats.stddev, null);
      }
      for (const key of ["p50", "p90", "p99"] as const) {
        assert.notEqual(stats[key], null, `${key} lies between two doubles, so it is one`);
      }
    }),
    { numRuns: 500 },
  );
});
