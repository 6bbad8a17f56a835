import assert from "node:assert/strict";
import fc from "fast-check";
import { AppError } from "../../services/errors.ts";
import { parseCsvSeries } from "../../services/series/parse_csv.ts";
import type { ParsedSeries } from "../../services/series/types.ts";
import { assertAppError } from "../helpers/assert_app_error.ts";

const T0 = Date.UTC(2020, 0, 10);
const MINUTE = 60_000;

function parse(text: string, maxPoints = 1000): ParsedSeries {
  return parseCsvSeries(text, { maxPoints });
}

function values(parsed: ParsedSeries, column = 0): number[] {
  return [...parsed.series.columns[column]];
}

Deno.test("a simple CSV becomes columns of timestamps and values", () => {
  const parsed = parse(
    "timestamp,temp,humidity\n" +
      "2020-01-10T00:00:00Z,1.5,40\n" +
      "2020-01-10T00:01:00Z,-2,41.25\n",
  );
  assert.deepEqual([...parsed.series.timestamps], [T0, T0 + MINUTE]);
  assert.deepEqual(parsed.series.names, ["temp", "humidity"]);
  assert.deepEqual(values(parsed, 0), [1.5, -2]);
  assert.deepEqual(values(parsed, 1), [40, 41.25]);
  assert.equal(parsed.received, 2);
  assert.equal(parsed.rejected, 0);
  assert.deepEqual(parsed.rejectedExamples, []);
  assert.equal(parsed.name, undefined);
});

Deno.test("the returned arrays hold exactly the accepted rows", () => {
  const parsed = parse("t,v\n0,1\nbad,2\n120,3\n");
  assert.equal(parsed.series.timestamps.length, 2);
  assert.equal(parsed.series.timestamps.buffer.byteLength, 16);
  assert.equal(parsed.series.columns[0].buffer.byteLength, 16);
});

Deno.test("the time column may be called timestamp, time, date or t in any case", () => {
  for (const name of ["timestamp", "Time", "DATE", "t", " T "]) {
    const parsed = parse(`${name},v\n2020-01-10,1\n`);
    assert.deepEqual([...parsed.series.timestamps], [T0], name);
  }
});

Deno.test("column names are trimmed", () => {
  assert.deepEqual(parse("t, a ,\tb\n0,1,2\n").series.names, ["a", "b"]);
});

Deno.test("a header without a time column is invalid_input naming the columns", () => {
  assertAppError(() => parse("when,v\nsoon,1\n"), "invalid_input", {
    message: /No time column: name one timestamp, time, date, datetime or t .*"when", "v"/,
    errors: [{ path: "header", message: /time_column=NAME/ }, {
      path: "query.time_column",
      message: /Name the time column/,
    }],
  });
});

Deno.test("a first column of times is the time column whatever its name, and the report says so", () => {
  const parsed = parse("when,v\n2020-01-10,1\n");
  assert.deepEqual(values(parsed), [1]);
  assert.equal(parsed.dialect?.time_column, "when");
  assert.match(parsed.dialect?.notes?.[0] ?? "", /first column, "when", was taken/);
});

Deno.test("a header without a value column is invalid_input", () => {
  assertAppError(() => parse("timestamp\n2020-01-10\n"), "invalid_input", {
    message: /at least one value column/,
    errors: [{ path: "header", message: /at least one value column/ }],
  });
});

Deno.test("empty, duplicate and reserved column names are invalid_input naming the column", () => {
  assertAppError(() => parse("t,a, \n0,1,2\n"), "invalid_input", {
    message: /Column 2 after the timestamp has an empty name/,
    errors: [{ path: "header", message: /empty name/ }],
  });
  assertAppError(() => parse("t,a,b,a\n0,1,2,3\n"), "invalid_input", {
    message: /Column "a" appears twice/,
  });
  assertAppError(() => parse("t,a, a\n0,1,2\n"), "invalid_input", {
    message: /Column "a" appears twice/,
  });
  assertAppError(() => parse("time,timestamp\n0,1\n"), "invalid_input", {
    message: /"timestamp" is reserved/,
  });
});

Deno.test("an empty CSV is invalid_input", () => {
  assertAppError(() => parse(""), "invalid_input", { message: /The CSV is empty/ });
  assertAppError(() => parse("\n \r\n\t\n"), "invalid_input", { message: /The CSV is empty/ });
});

Deno.test("a CSV with only a header has no data rows", () => {
  assertAppError(() => parse("timestamp,value\n"), "invalid_input", {
    message: /^The CSV has no data rows$/,
  });
  assertAppError(() => parse("timestamp,value\n\n  \n"), "invalid_input", {
    message: /^The CSV has no data rows$/,
  });
});

Deno.test("a UTF-8 byte order mark is stripped", () => {
  const parsed = parse("\uFEFFtimestamp,v\n2020-01-10,1\n");
  assert.deepEqual(parsed.series.names, ["v"]);
  assert.deepEqual([...parsed.series.timestamps], [T0]);
});

Deno.test("CRLF, LF, CR-only and mixed line endings all work", () => {
  const expected = [1, 2, 3];
  for (const eol of ["\r\n", "\n", "\r"]) {
    const text = ["t,v", "0,1", "60,2", "120,3"].join(eol) + eol;
    assert.deepEqual(values(parse(text)), expected, JSON.stringify(eol));
  }
  assert.deepEqual(values(parse("t,v\r\n0,1\n60,2\r120,3")), expected);
});

Deno.test("line numbers count physical lines for every line ending", () => {
  for (const eol of ["\r\n", "\n", "\r"]) {
    const text = ["t,v", "0,1", "", "60,x", "120,2"].join(eol);
    assert.deepEqual(parse(text).rejectedExamples, [
      { line: 4, reason: 'Column "v": "x" is not a finite number' },
    ], JSON.stringify(eol));
  }
});

Deno.test("a last row without a line break is read", () => {
  assert.deepEqual(values(parse("t,v\n0,1\n60,2")), [1, 2]);
});

Deno.test("blank and whitespace-only lines are ignored and not counted", () => {
  const parsed = parse("\n\nt,v\n\n0,1\n  \t\n\r\n60,2\n\n");
  assert.deepEqual(values(parsed), [1, 2]);
  assert.equal(parsed.received, 2);
});

Deno.test("quoted fields may hold commas, quotes and line breaks", () => {
  const parsed = parse('"t","a,b","say ""hi""","multi\nline"\n"0"," 1.5 ",2,"3"\n');
  assert.deepEqual(parsed.series.names, ["a,b", 'say "hi"', "multi\nline"]);
  assert.deepEqual([...parsed.series.timestamps], [0]);
  assert.deepEqual([values(parsed, 0), values(parsed, 1), values(parsed, 2)], [[1.5], [2], [3]]);
});

Deno.test("quoted cells count their line breaks for later line numbers", () => {
  const parsed = parse('t,v\n0,"1\r\n2"\n60,"x"\n120,"a""b"\n180,1\n');
  assert.deepEqual(parsed.rejectedExamples, [
    { line: 2, reason: 'Column "v": "1\r\n2" is not a finite number' },
    { line: 4, reason: 'Column "v": "x" is not a finite number' },
    { line: 5, reason: 'Column "v": "a"b" is not a finite number' },
  ]);
});

Deno.test("a quoted timestamp with escaped quotes is unescaped before parsing", () => {
  const parsed = parse('t,v\n"2020-01-10""",1\n"2020-01-10",2\n');
  assert.deepEqual(values(parsed), [2]);
  assert.match(parsed.rejectedExamples[0].reason, /^Column "t": .*\(got "2020-01-10""\)$/);
});

Deno.test("spaces around cells and around quoted cells are allowed", () => {
  const parsed = parse('t,v,w\n 2020-01-10 , 1 , \t"2"  \n');
  assert.deepEqual([...parsed.series.timestamps], [T0]);
  assert.deepEqual([values(parsed, 0), values(parsed, 1)], [[1], [2]]);
});

Deno.test("malformed quoting rejects the row", () => {
  const parsed = parse('t,v\n0,"1"x\n60,2\n120,"3\n');
  assert.deepEqual(values(parsed), [2]);
  assert.deepEqual(parsed.rejectedExamples, [
    { line: 2, reason: "Unexpected text after a closing quote" },
    { line: 4, reason: "A quoted cell is never closed" },
  ]);
});

Deno.test("a malformed header is invalid_input", () => {
  assertAppError(() => parse('t,"v\n0,1\n'), "invalid_input", {
    errors: [{ path: "header", message: /malformed quoted cell/ }],
  });
});

Deno.test("empty value cells are missing values, not rejections", () => {
  const parsed = parse("t,a,b\n0,,1\n60,2,\n120, ,\n");
  assert.deepEqual(values(parsed, 0), [NaN, 2, NaN]);
  assert.deepEqual(values(parsed, 1), [1, NaN, NaN]);
  assert.equal(parsed.rejected, 0);
});

Deno.test("rows with the wrong number of cells are rejected with expected and actual", () => {
  const parsed = parse("t,a,b\n0,1\n60,1,2,3\n120,1,2\n180\n");
  assert.deepEqual(values(parsed, 0), [1]);
  assert.deepEqual(parsed.rejectedExamples, [
    { line: 2, reason: "Expected 3 cells, found 2" },
    { line: 3, reason: "Expected 3 cells, found 4" },
    { line: 5, reason: "Expected 3 cells, found 1" },
  ]);
  assert.equal(parsed.received, 4);
});

Deno.test("bad timestamps are rejected with the column name and the reason", () => {
  // Enough good rows that one without an offset is a bad row, not a file that needs ?timezone=.
  const good = Array.from({ length: 40 }, (_, i) => `${1_600_000_000 + i},${i}`).join("\n");
  const parsed = parse(`Time,v\n2020-01-10T12:30,1\n2020-02-30,2\n,3\n2020-01-10,4\n${good}\n`);
  assert.deepEqual(parsed.rejectedExamples, [
    {
      line: 2,
      reason: 'Column "Time": Date-time needs Z or an offset; add ?timezone= (an IANA zone ' +
        'such as UTC or Europe/Berlin) (got "2020-01-10T12:30")',
    },
    { line: 3, reason: 'Column "Time": Day must be 01 to 29 in 2020-02 (got "2020-02-30")' },
    { line: 4, reason: 'Column "Time": Timestamp is empty (got "")' },
  ]);
  assert.deepEqual(values(parsed).slice(0, 2), [4, 0]);
});

Deno.test("bad values are rejected naming the first bad column", () => {
  const parsed = parse(
    "t,a,b\n0,1,Infinity\n60,NaN,2\n120,0x10,3\n180,1e309,4\n240,abc,5\n300,-0,+2\n",
  );
  assert.deepEqual(parsed.rejectedExamples.map((row) => row.reason), [
    'Column "b": "Infinity" is not a finite number',
    'Column "a": "0x10" is not a finite number',
    'Column "a": "1e309" is not a finite number',
    'Column "a": "abc" is not a finite number',
  ]);
  // "NaN" is one of pandas' missing tokens, so that row is kept with a gap.
  assert.ok(Number.isNaN(parsed.series.columns[0][0]));
  assert.equal(parsed.series.columns[1][0], 2);
  assert.ok(Object.is(parsed.series.columns[0][1], -0));
});

Deno.test("a rejected row leaves no values behind for the next row", () => {
  const parsed = parse("t,a,b\n0,7,bad\n60,,1\n");
  assert.deepEqual(values(parsed, 0), [NaN]);
  assert.deepEqual(values(parsed, 1), [1]);
});

Deno.test("all rejections are counted but only 10 examples kept", () => {
  const lines = ["t,v"];
  for (let i = 0; i < 25; i++) lines.push(`${i * 60},bad${i}`);
  lines.push("9999,1");
  const parsed = parse(lines.join("\n"));
  assert.equal(parsed.received, 26);
  assert.equal(parsed.rejected, 25);
  assert.equal(parsed.rejectedExamples.length, 10);
  assert.deepEqual(parsed.rejectedExamples[9], {
    line: 11,
    reason: 'Column "v": "bad9" is not a finite number',
  });
});

Deno.test("long cells are truncated in reasons", () => {
  const parsed = parse(`t,v\n0,${"9".repeat(30)}x${"9".repeat(30)}\n60,1\n`);
  assert.equal(
    parsed.rejectedExamples[0].reason,
    `Column "v": "${"9".repeat(30)}x${"9".repeat(9)}..." is not a finite number`,
  );
});

Deno.test("no valid rows is invalid_input with the count and the first example", () => {
  assertAppError(() => parse("t,v\n0,abc\nnope,1\n"), "invalid_input", {
    message:
      /^No valid rows: all 2 data rows were rejected, e\.g\. line 2: Column "v": "abc" is not a finite number$/,
  });
});

Deno.test("maxPoints rows are fine, one more is payload_too_large", () => {
  assert.equal(parse("t,v\n0,1\n60,2\n\n", 2).series.timestamps.length, 2);
  assertAppError(() => parse("t,v\n0,1\n60,2\n120,3\n", 2), "payload_too_large", {
    message: /more than 2 data rows/,
  });
});

Deno.test("the row limit stops parsing before the rest of the text", () => {
  // The unterminated quote after the limit would otherwise swallow the rest.
  assertAppError(() => parse('t,v\n0,1\n60,2\n120,"3\n180,4\n', 1), "payload_too_large");
  // Rejected rows count toward the limit too.
  assertAppError(() => parse("t,v\nx,1\ny,2\n", 1), "payload_too_large");
});

Deno.test("timestamps may be epoch seconds, milliseconds and offsets", () => {
  const parsed = parse(
    "t,v\n1578614400,1\n1578614460000,2\n2020-01-10T01:02:00+01:00,3\n2020-01-10 00:03:00.000Z,4\n",
  );
  assert.deepEqual([...parsed.series.timestamps], [
    T0,
    T0 + MINUTE,
    T0 + 2 * MINUTE,
    T0 + 3 * MINUTE,
  ]);
});

Deno.test("input order and duplicates are kept for the cleaning step", () => {
  const parsed = parse("t,v\n120,1\n0,2\n120,3\n");
  assert.deepEqual([...parsed.series.timestamps], [120_000, 0, 120_000]);
});

Deno.test("columns grow past the initial row estimate", () => {
  // Long first rows make the sample predict few rows; the rest are short.
  const lines = ["t,v"];
  for (let i = 0; i < 200; i++) lines.push(`${i},${"0".repeat(400)}1`);
  for (let i = 200; i < 20_000; i++) lines.push(`${i},${i}`);
  const parsed = parse(lines.join("\n"), 100_000);
  assert.equal(parsed.series.timestamps.length, 20_000);
  assert.equal(parsed.series.columns[0][19_999], 19_999);
  assert.equal(parsed.series.timestamps[19_999], 19_999_000);
});

Deno.test("a header with many columns is read in full", () => {
  const names = Array.from({ length: 40 }, (_, i) => `c${i}`);
  const row = names.map((_, i) => String(i));
  const parsed = parse(`t,${names.join(",")}\n0,${row.join(",")}\n`);
  assert.deepEqual(parsed.series.names, names);
  assert.equal(parsed.series.columns[39][0], 39);
});

Deno.test("property: hostile text either parses consistently or throws an AppError", () => {
  const piece = fc.constantFrom(
    ",",
    '"',
    '""',
    "\r",
    "\n",
    "\r\n",
    " ",
    "\t",
    "0",
    "1.5",
    "-",
    "e",
    "2020-01-10",
    "T12:30Z",
    "x",
    "\uFEFF",
    "\u00e9",
  );
  fc.assert(
    fc.property(
      fc.constantFrom("", "t,v\n", "t,a,b\r\n", '"t","v"\r'),
      fc.array(piece, { maxLength: 60 }),
      (header, pieces) => {
        let parsed: ParsedSeries;
        try {
          parsed = parse(header + pieces.join(""), 20);
        } catch (error) {
          assert.ok(error instanceof AppError, String(error));
          assert.ok(["invalid_input", "payload_too_large"].includes(error.kind));
          return;
        }
        const accepted = parsed.series.timestamps.length;
        assert.ok(accepted > 0);
        assert.equal(parsed.received, accepted + parsed.rejected);
        assert.ok(parsed.rejectedExamples.length <= 10);
        for (const column of parsed.series.columns) assert.equal(column.length, accepted);
        const lines = parsed.rejectedExamples.map((example) => example.line);
        lines.forEach((line, i) => assert.ok(line >= 2 && (i === 0 || line > lines[i - 1])));
        assert.ok([...parsed.series.timestamps].every(Number.isFinite));
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("property: quoting, padding, blank lines and line endings do not change the data", () => {
  const value = fc.oneof(fc.constant(NaN), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const layout = fc.record({
    quoted: fc.boolean(),
    padding: fc.constantFrom("", " ", "\t "),
    blankBefore: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1e12 }), value, value, layout), {
        minLength: 1,
        maxLength: 40,
      }),
      fc.integer({ min: 0, max: 39 }),
      // One ending per file: "\r" then a blank "\n" line would be a single CRLF.
      fc.constantFrom("\n", "\r\n", "\r"),
      (rows, badAt, eol) => {
        let text = "timestamp,a,b\n";
        let line = 1;
        let badLine = 0;
        rows.forEach(([t, a, b, { quoted, padding, blankBefore }], i) => {
          if (blankBefore) {
            text += padding + eol;
            line++;
          }
          const cell = (v: number) => {
            const raw = Number.isNaN(v) ? "" : Object.is(v, -0) ? "-0" : String(v);
            return quoted ? `${padding}"${raw}"${padding}` : `${padding}${raw}${padding}`;
          };
          line++;
          if (i === badAt) {
            badLine = line;
            text += `${t},"1${eol}2",${cell(b)}${eol}`;
            line++;
            return;
          }
          text += `${cell(t)},${cell(a)},${cell(b)}${eol}`;
        });
        const good = rows.filter((_, i) => i !== badAt);
        if (good.length === 0) return;
        const parsed = parse(text);
        assert.deepEqual(
          [...parsed.series.timestamps],
          good.map(([t]) => (t >= 1e11 ? t : t * 1000)),
        );
        assert.deepEqual(values(parsed, 0), good.map(([, a]) => a));
        assert.deepEqual(values(parsed, 1), good.map(([, , b]) => b));
        if (badAt < rows.length) {
          assert.equal(parsed.rejected, 1);
          assert.equal(parsed.rejectedExamples[0].line, badLine);
        }
      },
    ),
    { numRuns: 500 },
  );
});
