import assert from "node:assert/strict";
import fc from "fast-check";
import {
  INVALID_NUMBER,
  numberInRange,
  parseNumberCell,
  quoteForMessage,
} from "../../services/series/numbers.ts";

function value(text: string): number {
  return numberInRange(text, { start: 0, end: text.length });
}

Deno.test("decimal and scientific literals are accepted", () => {
  const cases: [string, number][] = [
    ["12", 12],
    ["-3.5", -3.5],
    [".5", 0.5],
    ["1e3", 1000],
    ["+2", 2],
    ["12.", 12],
    ["1E-3", 0.001],
    ["-2.5e+2", -250],
    ["007", 7],
    ["0.000001", 0.000001],
    [" \t42 ", 42],
    ["123456789012345678901234567890", 123456789012345678901234567890],
    ["1.7976931348623157e308", Number.MAX_VALUE],
    ["5e-324", Number.MIN_VALUE],
  ];
  for (const [text, expected] of cases) assert.equal(value(text), expected, text);
});

Deno.test("negative zero stays negative zero", () => {
  assert.ok(Object.is(value("-0"), -0));
  assert.ok(Object.is(value("-0.0e5"), -0));
  assert.ok(Object.is(value("0"), 0));
});

Deno.test("empty and blank cells are missing (NaN)", () => {
  assert.ok(Number.isNaN(value("")));
  assert.ok(Number.isNaN(value("  \t ")));
});

Deno.test("non-literals and non-finite numbers are invalid", () => {
  for (
    const text of [
      "Infinity",
      "-Infinity",
      "NaN",
      "0x10",
      "0b1",
      "1e309",
      "-1e309",
      "abc",
      "1,5",
      "1e",
      "1e+",
      ".",
      "-",
      "+",
      "1.2.3",
      "12abc",
      "1 2",
      "--1",
      "e5",
      "1_000",
    ]
  ) {
    assert.equal(value(text), INVALID_NUMBER, text);
  }
});

Deno.test("numberInRange reads only its range", () => {
  const text = "12,34e1,x";
  assert.equal(numberInRange(text, { start: 0, end: 2 }), 12);
  assert.equal(numberInRange(text, { start: 3, end: 7 }), 340);
  assert.equal(numberInRange(text, { start: 3, end: 6 }), INVALID_NUMBER);
});

Deno.test("parseNumberCell explains a rejection", () => {
  assert.deepEqual(parseNumberCell("abc"), { ok: false, reason: '"abc" is not a finite number' });
  const missing = parseNumberCell("");
  assert.ok(missing.ok && Number.isNaN(missing.value));
});

Deno.test("quoteForMessage truncates long text", () => {
  assert.equal(quoteForMessage("a".repeat(40)), `"${"a".repeat(40)}"`);
  assert.equal(quoteForMessage("a".repeat(41)), `"${"a".repeat(40)}..."`);
});

Deno.test("property: every finite double round-trips through its shortest text", () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      // String(-0) is "0", so negative zero comes back as zero.
      assert.ok(Object.is(value(String(x)), Object.is(x, -0) ? 0 : x), String(x));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("property: results equal Number() for fixed, exponential and precision forms", () => {
  fc.assert(
    fc.property(
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e20, max: 1e20 }),
      fc.integer({ min: 1, max: 20 }),
      (x, digits) => {
        for (
          const text of [x.toPrecision(digits), x.toExponential(digits - 1), x.toFixed(digits)]
        ) {
          assert.ok(Object.is(value(text), Number(text)), text);
        }
      },
    ),
    { numRuns: 3000 },
  );
});
