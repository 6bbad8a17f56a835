/**
 * Issue 13 through the HTTP API: every upload format, every parse parameter
 * and every error they can cause, with fixtures made by pandas and DuckDB
 * (tests/fixtures/formats/, with the scripts that wrote them).
 */
import assert from "node:assert/strict";
import { querySql } from "../../db/mod.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { createSettledReport, postReport, testApp } from "../helpers/test_app.ts";

const FIXTURES = new URL("../fixtures/formats/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIXTURES));

const MEDIA = {
  csv: "text/csv",
  json: "application/json",
  ndjson: "application/x-ndjson",
  parquet: "application/vnd.apache.parquet",
};

interface FixtureCase {
  file: string;
  media: keyof typeof MEDIA;
  query?: string;
  points: number;
  dialect: Record<string, unknown>;
  /** Columns to check: name -> missing count. */
  missing?: Record<string, number>;
}

const CASES: FixtureCase[] = [
  {
    file: "pandas.csv",
    media: "csv",
    points: 20,
    dialect: { delimiter: ",", time_column: "Date", detected: ["delimiter", "time_column"] },
    missing: { Close: 1, "Adj Close": 1 },
  },
  {
    file: "pandas_semicolon.csv",
    media: "csv",
    points: 20,
    dialect: {
      delimiter: ";",
      decimal: ",",
      time_format: "%d.%m.%Y",
      detected: ["delimiter", "time_column", "time_format", "decimal"],
    },
    missing: { Close: 1 },
  },
  {
    file: "pandas_us_dates.csv",
    media: "csv",
    points: 20,
    dialect: { time_format: "%m/%d/%Y" },
  },
  {
    file: "pandas_ambiguous_dates.csv",
    media: "csv",
    query: "?date_format=%25m/%25d/%25Y",
    points: 8,
    dialect: { time_format: "%m/%d/%Y", detected: ["delimiter", "time_column"] },
  },
  {
    file: "pandas_tab_utf16.csv",
    media: "csv",
    points: 20,
    dialect: { encoding: "utf-16le", delimiter: "\t" },
  },
  {
    // 20 hours across Berlin's spring-forward night: 02:00 does not exist and
    // moves to 03:00, which the file also has, so one row is a duplicate.
    file: "pandas_local_times.csv",
    media: "csv",
    query: "?timezone=Europe/Berlin",
    points: 19,
    dialect: { timezone: "Europe/Berlin", time_column: "Datetime" },
  },
  {
    file: "yahoo_finance.csv",
    media: "csv",
    points: 5,
    dialect: { time_column: "Date" },
    missing: { Open: 1, Volume: 1 },
  },
  {
    file: "excel_semicolon.csv",
    media: "csv",
    query: "?timezone=Europe/Berlin",
    points: 5,
    dialect: {
      encoding: "utf-8-bom",
      delimiter: ";",
      decimal: ",",
      time_column: "Datum",
      time_format: "%d.%m.%Y %H:%M",
    },
    missing: { Temperatur: 1, Luftfeuchte: 1 },
  },
  {
    file: "pandas_records.json",
    media: "json",
    points: 20,
    dialect: { shape: "records", time_column: "Date" },
    missing: { Close: 1 },
  },
  {
    file: "pandas_split.json",
    media: "json",
    points: 20,
    dialect: { shape: "split", time_column: "index" },
  },
  {
    file: "pandas.ndjson",
    media: "ndjson",
    points: 20,
    dialect: { shape: "ndjson", time_column: "Date" },
  },
  {
    file: "duckdb_snappy.parquet",
    media: "parquet",
    points: 20,
    dialect: { time_column: "ts", time_format: "parquet" },
    missing: { volume: 1 },
  },
  {
    file: "duckdb_zstd.parquet",
    media: "parquet",
    points: 20,
    dialect: { time_column: "time" },
  },
  {
    file: "duckdb_gzip_date.parquet",
    media: "parquet",
    points: 20,
    dialect: { time_column: "date" },
  },
];

Deno.test("Every fixture format becomes a ready report whose source.dialect says how it was read", async (t) => {
  await using world = await testApp();
  for (const item of CASES) {
    await t.step(`${item.file}${item.query ?? ""}`, async () => {
      const report = await createSettledReport(world, fixture(item.file), {
        contentType: MEDIA[item.media],
        query: item.query,
      });
      assert.equal(report.status, "ready", JSON.stringify(report.error));
      assert.equal(report.source.format, item.media);
      assert.equal(report.summary.points, item.points);
      for (const [key, value] of Object.entries(item.dialect)) {
        assert.deepEqual(report.source.dialect[key], value, key);
      }
      for (const [column, missing] of Object.entries(item.missing ?? {})) {
        assert.equal(report.summary.columns[column].missing, missing, column);
      }
    });
  }
});

Deno.test("Given parameters are not listed as detected", async () => {
  await using world = await testApp();
  const report = await createSettledReport(world, fixture("pandas_semicolon.csv"), {
    query: "?delimiter=%3B&decimal=,&time_column=Date&date_format=%25d.%25m.%25Y",
  });
  assert.equal(report.status, "ready", JSON.stringify(report.error));
  assert.deepEqual(report.source.dialect.detected, []);
});

Deno.test("?thousands= reads quoted grouped numbers; ?time_column= picks a later column", async () => {
  await using world = await testApp();
  const csv = 'symbol,price,Stamp\nX,"1,234.50",2020-01-01\nX,"12,000",2020-01-02\n';
  const failed = await createSettledReport(world, "v,Stamp\n1,2020-01-01\n", {
    query: "?time_column=stamp",
  });
  assert.equal(failed.status, "ready", "time_column matches in any case");
  const report = await createSettledReport(world, csv, {
    query: "?thousands=,&time_column=Stamp",
  });
  // "X" is text, not a number: the symbol column rejects every row.
  assert.equal(report.status, "failed");
  assert.match(report.error.detail, /Column "symbol": "X" is not a finite number/);
  const numeric = 'price,Stamp\n"1,234.50",2020-01-01\n"12,000",2020-01-02\n';
  const ok = await createSettledReport(world, numeric, { query: "?thousands=,&time_column=Stamp" });
  assert.equal(ok.status, "ready", JSON.stringify(ok.error));
  assert.equal(ok.summary.columns.price.min, 1234.5);
  assert.equal(ok.summary.columns.price.max, 12000);
  assert.equal(ok.source.dialect.thousands, ",");
});

Deno.test("Missing-value tokens are gaps, other text rejects the row with a hint", async () => {
  await using world = await testApp();
  const csv = "t,v\n0,1\n60,null\n120,N/A\n180,#N/A\n240,-\n300,None\n360,n.a.\n420,1,5\n";
  const report = await createSettledReport(world, csv);
  assert.equal(report.status, "ready");
  assert.equal(report.summary.columns.v.missing, 5);
  assert.deepEqual(report.rows.rejected_examples.map((row: { line: number }) => row.line), [
    8,
    9,
  ]);
  const semicolon = await createSettledReport(world, "t;v\n0;1.5\n60;2,5\n");
  assert.match(
    semicolon.rows.rejected_examples[0].reason,
    /"2,5" is not a finite number; add \?decimal=, for decimal commas/,
  );
});

Deno.test("Ambiguous dates and offset-less times are a 422 at the request naming the parameter", async () => {
  await using world = await testApp();
  const ambiguous = await assertProblem(
    await postReport(world, fixture("pandas_ambiguous_dates.csv")),
    422,
  );
  assert.match(ambiguous.detail ?? "", /could be %m\/%d\/%Y or %d\/%m\/%Y/);
  assert.equal(ambiguous.errors?.[0].path, "query.date_format");
  const local = await assertProblem(
    await postReport(world, fixture("pandas_local_times.csv")),
    422,
  );
  assert.equal(local.errors?.[0].path, "query.timezone");
  assert.match(local.detail ?? "", /"2020-03-28 22:00:00" have no offset: add \?timezone=/);
  const ndjson = await assertProblem(
    await postReport(world, '{"date":"03/04/2020","v":1}\n', { contentType: MEDIA.ndjson }),
    422,
  );
  assert.equal(ndjson.errors?.[0].path, "query.date_format");
  const records = await assertProblem(
    await postReport(world, '[{"Datetime":"2020-03-04 10:00","v":1}]', {
      contentType: MEDIA.json,
    }),
    422,
  );
  assert.equal(records.errors?.[0].path, "query.timezone");
  const withZone = await createSettledReport(world, '[{"Datetime":"2020-03-04 10:00","v":1}]', {
    contentType: MEDIA.json,
    query: "?timezone=America/New_York",
  });
  assert.equal(withZone.summary.start, "2020-03-04T15:00:00.000Z");
});

Deno.test("A one-column header holding ; says to add ?delimiter=, even when a delimiter was given", async () => {
  await using world = await testApp();
  const csv = "Date;Value;Temp\n2020-01-01;1;2\n";
  // Detected without the parameter...
  const detected = await createSettledReport(world, csv);
  assert.equal(detected.source.dialect.delimiter, ";");
  // ...and named in the problem when a wrong one is given.
  const problem = await assertProblem(await postReport(world, csv, { query: "?delimiter=," }), 422);
  assert.match(problem.detail ?? "", /looks like a `;`-separated file: add \?delimiter=;/);
  assert.equal(problem.errors?.[0].path, "query.delimiter");
  const tab = await assertProblem(
    await postReport(world, "Date\tValue\n2020-01-01\t1\n", { query: "?delimiter=|" }),
    422,
  );
  assert.match(tab.detail ?? "", /TAB-separated file: add \?delimiter=tab/);
});

Deno.test("A time_column that is not there is a 422 listing the columns", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, "Date,v\n2020-01-01,1\n", { query: "?time_column=When" }),
    422,
  );
  assert.equal(problem.errors?.[0].path, "query.time_column");
  assert.match(
    problem.errors?.[0].message ?? "",
    /No column is named "When"; the columns are "Date", "v"/,
  );
});

Deno.test("Bad parse parameters are a 400 naming each one", async (t) => {
  await using world = await testApp();
  const cases: [string, string, RegExp][] = [
    ["?delimiter=x", "query.delimiter", /, ; \| or tab/],
    ["?decimal=x", "query.decimal", /Use \. or ,/],
    ["?thousands=x", "query.thousands", /Use ,/],
    ["?thousands=.", "query.thousands", /differ from the decimal mark/],
    ["?decimal=,&delimiter=,", "query.decimal", /needs another delimiter/],
    ["?date_format=%25y-%25m-%25d", "query.date_format", /%y is not supported/],
    ["?date_format=%25Y-%25m", "query.date_format", /needs a year .* and a day/],
    ["?date_format=%25Y-%25m-%25d %25H:%25M", "query.timezone", /has a time but no %z/],
    ["?timezone=Mars/Olympus", "query.timezone", /not an IANA zone/],
    [`?time_column=${"x".repeat(201)}`, "query.time_column", /200/],
  ];
  for (const [query, path, message] of cases) {
    await t.step(query.slice(0, 40), async () => {
      const problem = await assertProblem(await postReport(world, "t,v\n0,1\n", { query }), 400);
      assert.equal(problem.type, "/problems/invalid-parameter");
      assert.equal(problem.errors?.[0].path, path);
      assert.match(problem.errors?.[0].message ?? "", message);
    });
  }
});

/** `text` compressed with `format` through the platform's CompressionStream. */
async function compress(text: string, format: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(
    new CompressionStream(format as CompressionFormat) as unknown as ReadableWritablePair<
      Uint8Array,
      Uint8Array
    >,
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("Content-Encoding gzip and br bodies are decompressed while they stream", async () => {
  await using world = await testApp();
  const csv = new TextDecoder().decode(fixture("pandas.csv"));
  for (const [encoding, format] of [["gzip", "gzip"], ["br", "brotli"]]) {
    const report = await createSettledReport(world, await compress(csv, format), {
      headers: { "content-encoding": encoding },
    });
    assert.equal(report.status, "ready", `${encoding}: ${JSON.stringify(report.error)}`);
    assert.equal(report.summary.points, 20);
  }
  const json = await createSettledReport(
    world,
    await compress(new TextDecoder().decode(fixture("pandas_records.json")), "gzip"),
    { contentType: MEDIA.json, headers: { "content-encoding": "gzip" } },
  );
  assert.equal(json.status, "ready");
});

Deno.test("A gzip bomb is a 413 once its decompressed bytes pass the limit; nothing is kept", async () => {
  await using world = await testApp({ maxBodyBytes: 1024 * 1024 });
  // 64 MiB of rows compress to about 320 KB, well under the 1 MiB limit.
  const rows = "0,0\n".repeat(16 * 1024 * 1024);
  const bomb = await compress(`t,v\n${rows}`, "gzip");
  assert.ok(bomb.byteLength < 512 * 1024, `${bomb.byteLength} bytes`);
  const problem = await assertProblem(
    await postReport(world, bomb, { headers: { "content-encoding": "gzip" } }),
    413,
  );
  assert.match(problem.detail ?? "", /exceeds the limit of 1048576 bytes/);
  const [chunks] = await querySql(world.db, "SELECT count(*) AS n FROM upload_chunks");
  assert.equal(Number(chunks.n), 0);
});

Deno.test("A corrupt compressed body is a 400; an unknown Content-Encoding is a 415", async () => {
  await using world = await testApp();
  const gzip = await assertProblem(
    await postReport(world, "t,v\n0,1\n", { headers: { "content-encoding": "gzip" } }),
    400,
  );
  assert.equal(gzip.type, "/problems/malformed-body");
  assert.match(gzip.detail ?? "", /not valid gzip data/);
  const deflate = await assertProblem(
    await postReport(world, "t,v\n0,1\n", { headers: { "content-encoding": "deflate" } }),
    415,
  );
  assert.match(deflate.detail ?? "", /send gzip, br or none/);
});

Deno.test("Parquet: the footer is checked at the request, naming strings and lists", async () => {
  await using world = await testApp();
  const strings = await assertProblem(
    await postReport(world, fixture("duckdb_strings.parquet"), { contentType: MEDIA.parquet }),
    422,
  );
  assert.match(strings.detail ?? "", /"symbol" \(strings\), "tags" \(a list\)/);
  assert.deepEqual(strings.errors?.map((error) => error.path), ["column.symbol", "column.tags"]);
  const notParquet = await assertProblem(
    await postReport(world, "t,v\n0,1\n", { contentType: MEDIA.parquet }),
    400,
  );
  assert.match(notParquet.detail ?? "", /not a Parquet file/);
  const wrongColumn = await assertProblem(
    await postReport(world, fixture("duckdb_zstd.parquet"), {
      contentType: MEDIA.parquet,
      query: "?time_column=value",
    }),
    422,
  );
  assert.match(wrongColumn.detail ?? "", /"value" cannot hold times/);
  const [chunks] = await querySql(world.db, "SELECT count(*) AS n FROM upload_chunks");
  assert.equal(Number(chunks.n), 0, "refused uploads leave nothing behind");
});

Deno.test("Parquet: more rows than REPORTD_MAX_POINTS is a 413 from the footer", async () => {
  await using world = await testApp({ maxPoints: 10 });
  const problem = await assertProblem(
    await postReport(world, fixture("duckdb_snappy.parquet"), { contentType: MEDIA.parquet }),
    413,
  );
  assert.match(problem.detail ?? "", /more than 10 data rows/);
});

Deno.test("NDJSON lines that are not objects are refused at the request", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, '{"t":0,"v":1}\n[1]\n', { contentType: MEDIA.ndjson }),
    422,
  );
  assert.match(problem.detail ?? "", /Line 2 is not a JSON object/);
  const broken = await assertProblem(
    await postReport(world, '{"t":0,"v":1}\n{"t":\n', { contentType: MEDIA.ndjson }),
    400,
  );
  assert.equal(broken.errors?.[0].path, "line.2");
  const noTime = await assertProblem(
    await postReport(world, '{"when":0,"v":1}\n', { contentType: MEDIA.ndjson }),
    422,
  );
  assert.match(noTime.detail ?? "", /No time key/);
});

Deno.test("An unsupported media type names the four accepted ones", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, "x", { contentType: "application/xml" }),
    415,
  );
  assert.match(
    problem.detail ?? "",
    /text\/csv, application\/json, application\/x-ndjson or application\/vnd\.apache\.parquet/,
  );
});
