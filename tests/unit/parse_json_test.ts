import assert from "node:assert/strict";
import { parseJsonSeries } from "../../services/series/parse_json.ts";
import type { ParsedSeries } from "../../services/series/types.ts";
import { ColumnarUploadSchema, SeriesUploadSchema } from "../../services/series/upload_schema.ts";
import { assertAppError } from "../helpers/assert_app_error.ts";

const T0 = Date.UTC(2020, 0, 10);

function parse(body: unknown, maxPoints = 1000): ParsedSeries {
  return parseJsonSeries(typeof body === "string" ? body : JSON.stringify(body), { maxPoints });
}

function values(parsed: ParsedSeries, column = 0): number[] {
  return [...parsed.series.columns[column]];
}

Deno.test("the columnar form becomes a series with its name", () => {
  const parsed = parse({
    name: "Boiler",
    timestamps: ["2020-01-10", 1578614460, 1578614520000],
    columns: { temp: [1, null, -2.5], pressure: [0, 1, 2] },
  });
  assert.equal(parsed.name, "Boiler");
  assert.deepEqual([...parsed.series.timestamps], [T0, T0 + 60_000, T0 + 120_000]);
  assert.deepEqual(parsed.series.names, ["temp", "pressure"]);
  assert.deepEqual(values(parsed, 0), [1, NaN, -2.5]);
  assert.deepEqual(values(parsed, 1), [0, 1, 2]);
  assert.equal(parsed.received, 3);
  assert.equal(parsed.rejected, 0);
});

Deno.test("the row form discovers columns in order of first appearance", () => {
  const parsed = parse({
    points: [
      { t: "2020-01-10", b: 1 },
      { a: 2, timestamp: 1578614460 },
      { time: "2020-01-10T00:02:00Z", b: null, c: 3 },
      { date: "2020-01-10T00:03:00Z" },
    ],
  });
  assert.equal(parsed.name, undefined);
  assert.deepEqual(parsed.series.names, ["b", "a", "c"]);
  assert.deepEqual([...parsed.series.timestamps], [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000]);
  assert.deepEqual(values(parsed, 0), [1, NaN, NaN, NaN]);
  assert.deepEqual(values(parsed, 1), [NaN, 2, NaN, NaN]);
  assert.deepEqual(values(parsed, 2), [NaN, NaN, 3, NaN]);
});

Deno.test("a byte order mark before JSON is ignored", () => {
  const parsed = parse('\uFEFF{"timestamps": [0], "columns": {"v": [1]}}');
  assert.deepEqual(values(parsed), [1]);
});

Deno.test("text that is not JSON is malformed_body with the position", () => {
  const error = assertAppError(() => parse('{"timestamps": [0,]}'), "malformed_body", {
    message:
      /^The body is not valid JSON: Unexpected character "]" at line 1, column 19 \(position 18\)$/,
  });
  assert.ok(error.cause instanceof SyntaxError);
  assertAppError(() => parse('{"a":\n tru}'), "malformed_body", {
    message:
      /^The body is not valid JSON: Unexpected character "t" at line 2, column 2 \(position 7\)$/,
  });
  assertAppError(() => parse(""), "malformed_body", {
    message:
      /^The body is not valid JSON: Unexpected end of input at line 1, column 1 \(position 0\)$/,
  });
});

Deno.test("a body that is not an object is invalid_input on body", () => {
  for (const body of [3, null, '"text"']) {
    assertAppError(() => parse(body), "invalid_input", {
      errors: [{ path: "body", message: /expected object/ }],
    });
  }
  assertAppError(() => parse([1, 2]), "invalid_input", {
    message: /must hold row objects/,
    errors: [{ path: "body", message: /orient="records"\), not number/ }],
  });
});

Deno.test("missing or mistyped envelope fields report dotted paths", () => {
  assertAppError(() => parse({ columns: { v: [1] } }), "invalid_input", {
    message: /^The JSON body is not a valid upload \(timestamps: .*expected array/,
    errors: [{ path: "timestamps", message: /expected array/ }],
  });
  assertAppError(() => parse({ timestamps: [0], columns: [[1]] }), "invalid_input", {
    errors: [{ path: "columns", message: /expected record/ }],
  });
  assertAppError(() => parse({ timestamps: [0], columns: { v: 1 } }), "invalid_input", {
    errors: [{ path: "columns.v", message: /expected array/ }],
  });
  assertAppError(() => parse({ points: { t: 0 } }), "invalid_input", {
    errors: [{ path: "points", message: /expected array/ }],
  });
});

Deno.test("columns must be as long as timestamps", () => {
  assertAppError(
    () => parse({ timestamps: [0, 60, 120], columns: { a: [1, 2, 3], b: [1, 2] } }),
    "invalid_input",
    { errors: [{ path: "columns.b", message: "Has 2 values but there are 3 timestamps" }] },
  );
});

Deno.test("at least one value column is required", () => {
  assertAppError(() => parse({ timestamps: [0], columns: {} }), "invalid_input", {
    errors: [{ path: "columns", message: "Add at least one value column" }],
  });
  assertAppError(() => parse({ points: [{ t: 0 }, { time: 60 }] }), "invalid_input", {
    errors: [{ path: "points", message: /no value columns/ }],
  });
});

Deno.test("the name must be a string of 1 to 200 characters", () => {
  const body = { timestamps: [0], columns: { v: [1] } };
  assertAppError(() => parse({ ...body, name: "" }), "invalid_input", {
    errors: [{ path: "name", message: /too small|>=1/i }],
  });
  assertAppError(() => parse({ ...body, name: "x".repeat(201) }), "invalid_input", {
    errors: [{ path: "name", message: /too big|<=200/i }],
  });
  assertAppError(() => parse({ ...body, name: 5 }), "invalid_input", {
    errors: [{ path: "name", message: /expected string/ }],
  });
  assert.equal(parse({ ...body, name: "x".repeat(200) }).name, "x".repeat(200));
});

Deno.test("column names follow the CSV rules", () => {
  assertAppError(() => parse({ timestamps: [0], columns: { " ": [1] } }), "invalid_input", {
    errors: [{ path: "columns", message: /empty name/ }],
  });
  assertAppError(() => parse({ timestamps: [0], columns: { timestamp: [1] } }), "invalid_input", {
    errors: [{ path: "columns", message: /reserved/ }],
  });
  assertAppError(
    () => parse({ timestamps: [0], columns: { a: [1], " a": [1] } }),
    "invalid_input",
    {
      errors: [{ path: "columns", message: /"a" appears twice/ }],
    },
  );
  assertAppError(() => parse({ points: [{ t: 0, "": 1 }] }), "invalid_input", {
    errors: [{ path: "points", message: /empty name/ }],
  });
});

Deno.test("bad values reject the row, not the upload", () => {
  const parsed = parse({
    timestamps: [0, 60, 120, 180, 240, 300],
    columns: { v: [1, "2", true, [3], { x: 1 }, 6] },
  });
  assert.deepEqual(values(parsed), [1, 6]);
  assert.deepEqual(parsed.rejectedExamples, [
    { line: 2, reason: 'Column "v": Must be a number or null, not the string "2"' },
    { line: 3, reason: 'Column "v": Must be a number or null, not boolean' },
    { line: 4, reason: 'Column "v": Must be a number or null, not an array' },
    { line: 5, reason: 'Column "v": Must be a number or null, not an object' },
  ]);
});

Deno.test("a number too large for a double is rejected as not finite", () => {
  const parsed = parse('{"timestamps": [0, 60], "columns": {"v": [1e999, 1]}}');
  assert.deepEqual(parsed.rejectedExamples, [
    { line: 1, reason: 'Column "v": Infinity is not a finite number' },
  ]);
});

Deno.test("bad timestamps reject the row with the reason", () => {
  const parsed = parse({
    timestamps: ["2020-01-10T12:30", null, true, 1e20, "2020-01-10"],
    columns: { v: [1, 2, 3, 4, 5] },
  });
  assert.deepEqual(values(parsed), [5]);
  assert.deepEqual(parsed.rejectedExamples, [
    { line: 1, reason: 'Timestamp: Date-time needs Z or an offset (got "2020-01-10T12:30")' },
    { line: 2, reason: "Timestamp: Timestamp must be a string or a number, not null" },
    { line: 3, reason: "Timestamp: Timestamp must be a string or a number, not boolean" },
    {
      line: 4,
      reason: "Timestamp: Epoch number 100000000000000000000 is outside the years 0000 to 9999",
    },
  ]);
});

Deno.test("row-form points without one timestamp key or not objects are rejected", () => {
  const parsed = parse({
    points: [
      { v: 1 },
      { t: 0, time: 60, v: 2 },
      [0, 3],
      null,
      7,
      { t: "2020-01-10T12:30", v: 4 },
      { t: 0, v: "5" },
      { t: 0, v: 6 },
    ],
  });
  assert.deepEqual(values(parsed), [6]);
  assert.deepEqual(parsed.rejectedExamples, [
    { line: 1, reason: "Point has no timestamp key (t, timestamp, time or date)" },
    { line: 2, reason: 'Point has more than one timestamp key ("t", "time")' },
    { line: 3, reason: "Point must be an object" },
    { line: 4, reason: "Point must be an object" },
    { line: 5, reason: "Point must be an object" },
    { line: 6, reason: 'Column "t": Date-time needs Z or an offset (got "2020-01-10T12:30")' },
    { line: 7, reason: 'Column "v": Must be a number or null, not the string "5"' },
  ]);
});

Deno.test("a rejected point leaves no values behind for the next point", () => {
  const parsed = parse({
    points: [
      { a: 1, b: 2, t: "bad" },
      { a: 3, b: "x", t: 0 },
      { t: 60 },
    ],
  });
  assert.deepEqual(parsed.series.names, ["a", "b"]);
  assert.deepEqual(values(parsed, 0), [NaN]);
  assert.deepEqual(values(parsed, 1), [NaN]);
});

Deno.test("only 10 rejected examples are kept", () => {
  const timestamps = Array.from({ length: 30 }, (_, i) => i * 60);
  const v = timestamps.map((_, i) => (i < 25 ? "x" : i));
  const parsed = parse({ timestamps, columns: { v } });
  assert.equal(parsed.rejected, 25);
  assert.equal(parsed.rejectedExamples.length, 10);
  assert.equal(parsed.rejectedExamples[9].line, 10);
  assert.deepEqual(values(parsed), [25, 26, 27, 28, 29]);
});

Deno.test("empty arrays have no data rows", () => {
  assertAppError(() => parse({ timestamps: [], columns: { v: [] } }), "invalid_input", {
    message: /^The JSON has no data rows$/,
  });
  assertAppError(() => parse({ points: [] }), "invalid_input", {
    message: /^The JSON has no data rows$/,
  });
});

Deno.test("more rows than maxPoints is payload_too_large", () => {
  assert.equal(parse({ timestamps: [0, 60], columns: { v: [1, 2] } }, 2).received, 2);
  assertAppError(
    () => parse({ timestamps: [0, 60, 120], columns: { v: [1, 2, 3] } }, 2),
    "payload_too_large",
  );
  assertAppError(
    () => parse({ points: [{ t: 0, v: 1 }, { t: 60, v: 1 }] }, 1),
    "payload_too_large",
  );
  // Size is checked before the envelope, so zod never walks an oversized body.
  assertAppError(() => parse({ timestamps: [0, 60], columns: 5 }, 1), "payload_too_large");
});

Deno.test("no valid rows is invalid_input with the first example", () => {
  assertAppError(() => parse({ timestamps: ["x", 0], columns: { v: [1, "y"] } }), "invalid_input", {
    message: /^No valid rows: all 2 data rows were rejected, e\.g\. line 1: Timestamp: /,
  });
});

Deno.test("the schemas carry OpenAPI metadata", () => {
  assert.equal(ColumnarUploadSchema.meta()?.id, "ColumnarUpload");
  assert.equal(SeriesUploadSchema.meta()?.id, "SeriesUpload");
  assert.ok(SeriesUploadSchema.safeParse({ points: [{ t: 0, v: 1 }] }).success);
  assert.ok(ColumnarUploadSchema.safeParse(ColumnarUploadSchema.meta()?.example).success);
});
