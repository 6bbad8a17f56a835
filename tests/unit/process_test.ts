import assert from "node:assert/strict";
import { processUpload } from "../../services/series/process.ts";
import { assertAppErrorAsync } from "../helpers/assert_app_error.ts";

const encoder = new TextEncoder();

Deno.test("a CSV upload is parsed, cleaned and summarized with row counts", async () => {
  const body = encoder.encode(
    "timestamp,v\n" +
      "2020-01-10T00:02:00Z,3\n" +
      "2020-01-10T00:00:00Z,1\n" +
      "2020-01-10T00:01:00Z,2\n" +
      "2020-01-10T00:02:00Z,4\n" +
      "2020-01-10T00:03:00Z,abc\n",
  );
  const result = await processUpload(body, { format: "csv", maxPoints: 100 });
  assert.deepEqual([...result.series.columns[0]], [1, 2, 4]);
  assert.deepEqual(result.rows, {
    received: 5,
    accepted: 3,
    rejected: 1,
    duplicates: 1,
    rejected_examples: [{ line: 6, reason: 'Column "v": "abc" is not a finite number' }],
  });
  assert.equal(result.summary.start, "2020-01-10T00:00:00.000Z");
  assert.equal(result.summary.end, "2020-01-10T00:02:00.000Z");
  assert.equal(result.summary.points, 3);
  assert.equal(result.summary.columns.v.last, 4);
  assert.equal("name" in result, false);
});

Deno.test("a JSON upload keeps its name", async () => {
  const body = encoder.encode(JSON.stringify({ name: "Demo", points: [{ t: 0, v: 1 }] }));
  const result = await processUpload(body, { format: "json", maxPoints: 100 });
  assert.equal(result.name, "Demo");
  assert.equal(result.rows.accepted, 1);
  assert.equal(result.summary.columns.v.mean, 1);
});

Deno.test("invalid UTF-8 is invalid_input", async () => {
  const body = Uint8Array.of(...encoder.encode("t,v\n0,"), 0xff, 0xfe, 10);
  await assertAppErrorAsync(
    () => processUpload(body, { format: "csv", maxPoints: 10 }),
    "invalid_input",
    {
      message: /^The body is not valid UTF-8; send UTF-8, or UTF-16 with a byte order mark$/,
    },
  );
  await assertAppErrorAsync(
    () => processUpload(Uint8Array.of(0x7b, 0xc3), { format: "json", maxPoints: 10 }),
    "invalid_input",
    { message: /UTF-8/ },
  );
});

Deno.test("a UTF-8 byte order mark is accepted for both formats", async () => {
  const bom = [0xef, 0xbb, 0xbf];
  const csv = Uint8Array.of(...bom, ...encoder.encode("t,v\n0,1\n"));
  assert.equal((await processUpload(csv, { format: "csv", maxPoints: 10 })).rows.accepted, 1);
  const json = Uint8Array.of(...bom, ...encoder.encode('{"timestamps":[0],"columns":{"v":[1]}}'));
  assert.equal((await processUpload(json, { format: "json", maxPoints: 10 })).rows.accepted, 1);
});

Deno.test("parser errors pass through unchanged", async () => {
  await assertAppErrorAsync(
    () => processUpload(encoder.encode("t,v\n0,1\n60,2\n"), { format: "csv", maxPoints: 1 }),
    "payload_too_large",
  );
  await assertAppErrorAsync(
    () => processUpload(encoder.encode("{"), { format: "json", maxPoints: 1 }),
    "malformed_body",
  );
  await assertAppErrorAsync(
    () => processUpload(encoder.encode(""), { format: "csv", maxPoints: 1 }),
    "invalid_input",
  );
});

Deno.test("non-ASCII column names survive decoding", async () => {
  const body = encoder.encode("t,temp\u00e9rature \u2103\n0,1\n");
  const result = await processUpload(body, { format: "csv", maxPoints: 10 });
  assert.deepEqual(result.series.names, ["temp\u00e9rature \u2103"]);
});
