import assert from "node:assert/strict";
import fc from "fast-check";
import { quoteCsvField, seriesToCsv, seriesToCsvChunks } from "../../services/series/csv_out.ts";
import { parseCsvSeries } from "../../services/series/parse_csv.ts";
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from "../../services/series/timestamps.ts";
import type { Series } from "../../services/series/types.ts";

Deno.test("the CSV has a header, ISO timestamps, empty missing cells and short numbers", () => {
  const csv = seriesToCsv({
    timestamps: Float64Array.of(Date.UTC(2020, 0, 10, 12, 30, 0, 5), Date.UTC(2020, 0, 10, 12, 31)),
    names: ["temp", "count"],
    columns: [Float64Array.of(0.1 + 0.2, NaN), Float64Array.of(-0, 1e-7)],
  });
  assert.equal(
    csv,
    "timestamp,temp,count\n" +
      "2020-01-10T12:30:00.005Z,0.30000000000000004,-0\n" +
      "2020-01-10T12:31:00.000Z,,1e-7\n",
  );
});

Deno.test("names are quoted only when needed", () => {
  assert.equal(quoteCsvField("a b"), "a b");
  assert.equal(quoteCsvField("a,b"), '"a,b"');
  assert.equal(quoteCsvField('a"b'), '"a""b"');
  assert.equal(quoteCsvField("a\nb"), '"a\nb"');
  assert.equal(quoteCsvField("a\rb"), '"a\rb"');
  assert.equal(quoteCsvField(" a"), '" a"');
  assert.equal(quoteCsvField("\u00e9t\u00e9"), "\u00e9t\u00e9");
});

Deno.test("a series without rows is just the header", () => {
  const empty = { timestamps: new Float64Array(), names: ["v"], columns: [new Float64Array()] };
  assert.equal(seriesToCsv(empty), "timestamp,v\n");
  assert.deepEqual([...seriesToCsvChunks(empty)], ["timestamp,v\n"]);
});

Deno.test("chunks hold rowsPerChunk rows and join to the whole CSV", () => {
  const n = 25;
  const series: Series = {
    timestamps: Float64Array.from({ length: n }, (_, i) => i * 1000),
    names: ["v"],
    columns: [Float64Array.from({ length: n }, (_, i) => i)],
  };
  const chunks = [...seriesToCsvChunks(series, { rowsPerChunk: 10 })];
  assert.equal(chunks.length, 3);
  assert.equal(chunks[0].split("\n").length - 1, 11);
  assert.equal(chunks[2].split("\n").length - 1, 5);
  assert.equal(chunks.join(""), seriesToCsv(series));
  assert.equal([...seriesToCsvChunks(series)].length, 1);
});

const nameArbitrary = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
  fc.constantFrom("a,b", 'say "hi"', "two\nlines", "cr\rhere", "\u00e9t\u00e9", "x\r\ny"),
).filter((name) => name.trim() === name && name !== "" && name !== "timestamp");

const seriesArbitrary = fc.integer({ min: 1, max: 4 }).chain((columnCount) =>
  fc.record({
    names: fc.uniqueArray(nameArbitrary, { minLength: columnCount, maxLength: columnCount }),
    rows: fc.uniqueArray(
      fc.tuple(
        fc.integer({ min: MIN_TIMESTAMP_MS, max: MAX_TIMESTAMP_MS }),
        fc.array(
          fc.oneof(fc.constant(NaN), fc.double({ noNaN: true, noDefaultInfinity: true })),
          { minLength: columnCount, maxLength: columnCount },
        ),
      ),
      { minLength: 1, maxLength: 60, selector: ([t]) => t },
    ),
  })
);

Deno.test("property: CSV out then CSV in gives the same series", () => {
  fc.assert(
    fc.property(seriesArbitrary, ({ names, rows }) => {
      rows.sort(([a], [b]) => a - b);
      const series: Series = {
        timestamps: Float64Array.from(rows, ([t]) => t),
        names,
        columns: names.map((_, c) => Float64Array.from(rows, ([, values]) => values[c])),
      };
      const parsed = parseCsvSeries(seriesToCsv(series), { maxPoints: 1000 });
      assert.equal(parsed.rejected, 0);
      assert.deepEqual(parsed.series.names, names);
      assert.deepEqual([...parsed.series.timestamps], [...series.timestamps]);
      parsed.series.columns.forEach((column, c) => {
        column.forEach((value, i) => {
          assert.ok(Object.is(value, series.columns[c][i]), `${value} vs ${series.columns[c][i]}`);
        });
      });
    }),
    { numRuns: 500 },
  );
});
