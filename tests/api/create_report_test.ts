import assert from "node:assert/strict";
import { assertProblem } from "../helpers/assert_problem.ts";
import { postReport, SAMPLE_CSV, testApp } from "../helpers/test_app.ts";

Deno.test("POST /v1/reports with CSV answers 201, Location and the computed report", async () => {
  await using world = await testApp();
  const res = await postReport(world, SAMPLE_CSV, { query: "?name=Sample" });
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.equal(res.headers.get("location"), `/v1/reports/${body.id}`);
  assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(body.name, "Sample");
  assert.equal(body.status, "ready");
  assert.deepEqual(body.source, { kind: "upload", format: "csv" });
  assert.deepEqual(
    { ...body.rows, rejected_examples: body.rows.rejected_examples.length },
    { received: 6, accepted: 4, rejected: 1, duplicates: 1, rejected_examples: 1 },
  );
  assert.equal(body.rows.rejected_examples[0].line, 7);
  assert.equal(body.summary.start, "2020-01-01T00:00:00.000Z");
  assert.equal(body.summary.end, "2020-01-10T00:00:00.000Z");
  assert.equal(body.summary.points, 4);
  assert.equal(body.summary.interval_median_s, 86400);
  assert.equal(body.summary.gaps.count, 1);
  assert.deepEqual(body.summary.gaps.largest[0], {
    from: "2020-01-03T00:00:00.000Z",
    to: "2020-01-10T00:00:00.000Z",
    seconds: 604800,
  });
  assert.deepEqual(Object.keys(body.summary.columns), ["value", "volume"]);
  assert.equal(body.summary.columns.value.last, 5);
  assert.equal(body.summary.columns.value.first, 1);
  assert.equal(body.summary.columns.value.change, 4);
  assert.equal(body.summary.columns.value.change_pct, 400);
  assert.equal(body.summary.columns.volume.missing, 1);
  assert.equal(body.summary.columns.volume.count, 3);
  assert.deepEqual(body.links, {
    self: `/v1/reports/${body.id}`,
    series: `/v1/reports/${body.id}/series`,
  });
  assert.equal(body.error, null);
  assert.equal(body.created_at, body.updated_at);
});

Deno.test("POST /v1/reports accepts columnar JSON and takes the name from the body", async () => {
  await using world = await testApp();
  const res = await postReport(
    world,
    JSON.stringify({
      name: "Columnar",
      timestamps: ["2020-01-01", 1577923200, 1578009600000],
      columns: { value: [1, null, 3] },
    }),
    { contentType: "application/json" },
  );
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.equal(body.name, "Columnar");
  assert.deepEqual(body.source, { kind: "upload", format: "json" });
  assert.equal(body.summary.points, 3);
  assert.equal(body.summary.columns.value.missing, 1);
});

Deno.test("POST /v1/reports accepts row-form JSON with a charset parameter", async () => {
  await using world = await testApp();
  const res = await postReport(
    world,
    JSON.stringify({
      points: [{ t: "2020-01-01T00:00:00Z", value: 1 }, {
        t: "2020-01-02T00:00:00+01:00",
        value: 2,
      }],
    }),
    { contentType: "application/json; charset=UTF-8", query: "?name=Rows" },
  );
  assert.equal(res.status, 201);
  const body = await res.json();
  assert.equal(body.name, "Rows");
  assert.equal(body.summary.end, "2020-01-01T23:00:00.000Z");
});

Deno.test("POST /v1/reports names an unnamed upload with the default name", async () => {
  await using world = await testApp();
  const res = await postReport(world, "t,v\n1,2\n");
  assert.equal(res.status, 201);
  assert.equal((await res.json()).name, "Untitled report");
});

Deno.test("POST /v1/reports rejects text/plain with a 415 problem", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, "x", { contentType: "text/plain" }),
    415,
  );
  assert.equal(problem.type, "/problems/unsupported-media-type");
  assert.match(problem.detail ?? "", /text\/plain/);
});

Deno.test("POST /v1/reports rejects a missing content type and a non-UTF-8 charset", async () => {
  await using world = await testApp();
  const noType = await world.app.request("/v1/reports", { method: "POST", body: "t,v\n1,2" });
  await assertProblem(noType, 415);
  await assertProblem(
    await postReport(world, "t,v\n1,2", { contentType: "text/csv; charset=latin1" }),
    415,
  );
});

Deno.test("POST /v1/reports answers 413 for a declared length over the limit", async () => {
  await using world = await testApp({ maxBodyBytes: 1024 });
  const problem = await assertProblem(await postReport(world, "t,v\n" + "1,2\n".repeat(400)), 413);
  assert.match(problem.detail ?? "", /1024 bytes/);
});

Deno.test("POST /v1/reports answers 413 for a streamed body over the limit", async () => {
  await using world = await testApp({ maxBodyBytes: 1024 });
  let chunksPulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      chunksPulled++;
      // Endless: the server must stop reading at the limit instead of buffering it all.
      controller.enqueue(new TextEncoder().encode("1,2\n".repeat(64)));
    },
  });
  const res = await world.app.request("/v1/reports", {
    method: "POST",
    body: stream,
    headers: { "content-type": "text/csv" },
  });
  await assertProblem(res, 413);
  assert.ok(chunksPulled < 10, `Read ${chunksPulled} chunks of an endless body`);
});

Deno.test("POST /v1/reports answers 413 when the rows exceed REPORTD_MAX_POINTS", async () => {
  await using world = await testApp({ maxPoints: 3 });
  const csv = "t,v\n1,1\n2,2\n3,3\n4,4\n";
  const problem = await assertProblem(await postReport(world, csv), 413);
  assert.equal(problem.type, "/problems/payload-too-large");
});

Deno.test("POST /v1/reports answers 422 naming the problem for unusable CSV", async (t) => {
  await using world = await testApp();
  const cases: [string, string, RegExp][] = [
    ["header only", "timestamp,value\n", /no data rows/i],
    ["no numeric column", "timestamp\n2020-01-01\n", /column/i],
    ["wrong first column", "when,value\n2020-01-01,1\n", /timestamp/i],
    ["no valid rows", "t,v\nyesterday,1\n", /rejected|valid/i],
    ["empty body", "", /./],
  ];
  for (const [name, csv, detail] of cases) {
    await t.step(name, async () => {
      const problem = await assertProblem(await postReport(world, csv), 422);
      assert.equal(problem.type, "/problems/invalid-input");
      assert.match(problem.detail ?? "", detail);
    });
  }
});

Deno.test("POST /v1/reports answers 400 for unparseable JSON", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, '{"timestamps": [', { contentType: "application/json" }),
    400,
  );
  assert.equal(problem.type, "/problems/malformed-body");
});

Deno.test("POST /v1/reports answers 422 with field paths for a wrong JSON envelope", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(
      world,
      JSON.stringify({ timestamps: ["2020-01-01", "2020-01-02"], columns: { value: [1] } }),
      { contentType: "application/json" },
    ),
    422,
  );
  assert.ok(problem.errors?.some((error) => error.path.startsWith("columns")));
});

Deno.test("POST /v1/reports answers 422 for invalid UTF-8", async () => {
  await using world = await testApp();
  const bytes = new Uint8Array([...new TextEncoder().encode("t,v\n1,"), 0xff, 0xfe, 0x0a]);
  const problem = await assertProblem(await postReport(world, bytes), 422);
  assert.match(problem.detail ?? "", /UTF-8/);
});

Deno.test("POST /v1/reports answers 400 for a name longer than 200 characters", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, "t,v\n1,2\n", { query: `?name=${"x".repeat(201)}` }),
    400,
  );
  assert.equal(problem.errors?.[0].path, "query.name");
});
