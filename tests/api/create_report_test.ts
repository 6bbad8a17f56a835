import assert from "node:assert/strict";
import { querySql } from "../../db/mod.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import {
  createSettledReport,
  postReport,
  SAMPLE_CSV,
  settled,
  testApp,
} from "../helpers/test_app.ts";

Deno.test("POST /v1/reports answers 202 with Location and the queued report", async () => {
  await using world = await testApp({ startQueue: false });
  const res = await postReport(world, SAMPLE_CSV, { query: "?name=Sample" });
  assert.equal(res.status, 202);
  const body = await res.json();
  assert.equal(res.headers.get("location"), `/v1/reports/${body.id}`);
  assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(body.name, "Sample");
  assert.equal(body.status, "queued");
  assert.deepEqual(body.source, { kind: "upload", format: "csv" });
  assert.equal(body.rows, null);
  assert.equal(body.summary, null);
  assert.equal(body.error, null);
  assert.equal(body.queued_at, body.created_at);
  assert.equal(body.started_at, null);
  assert.equal(body.finished_at, null);
  assert.deepEqual(body.links, {
    self: `/v1/reports/${body.id}`,
    series: `/v1/reports/${body.id}/series`,
  });
});

Deno.test("A queued CSV upload becomes a ready report with statistics and gaps", async () => {
  await using world = await testApp();
  const body = await createSettledReport(world, SAMPLE_CSV, { query: "?name=Sample" });
  assert.equal(body.status, "ready");
  assert.equal(body.name, "Sample");
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
  assert.equal(body.error, null);
  assert.ok(body.queued_at <= body.started_at && body.started_at <= body.finished_at);
  assert.equal(body.updated_at, body.finished_at);
});

Deno.test("POST /v1/reports accepts columnar JSON and takes the name from the body", async () => {
  await using world = await testApp();
  const body = await createSettledReport(
    world,
    JSON.stringify({
      name: "Columnar",
      timestamps: ["2020-01-01", 1577923200, 1578009600000],
      columns: { value: [1, null, 3] },
    }),
    { contentType: "application/json" },
  );
  assert.equal(body.status, "ready");
  assert.equal(body.name, "Columnar");
  assert.equal(body.source.kind, "upload");
  assert.equal(body.source.format, "json");
  assert.equal(body.source.dialect.shape, "columnar");
  assert.equal(body.summary.points, 3);
  assert.equal(body.summary.columns.value.missing, 1);
});

Deno.test("POST /v1/reports accepts row-form JSON; ?name= wins over the body", async () => {
  await using world = await testApp();
  const body = await createSettledReport(
    world,
    JSON.stringify({
      name: "From body",
      points: [{ t: "2020-01-01T00:00:00Z", value: 1 }, {
        t: "2020-01-02T00:00:00+01:00",
        value: 2,
      }],
    }),
    { contentType: "application/json; charset=UTF-8", query: "?name=Rows" },
  );
  assert.equal(body.name, "Rows");
  assert.equal(body.summary.end, "2020-01-01T23:00:00.000Z");
});

Deno.test("POST /v1/reports names an unnamed upload with the default name", async () => {
  await using world = await testApp();
  const body = await createSettledReport(world, "t,v\n1,2\n");
  assert.equal(body.name, "Untitled report");
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
  const [stored] = await querySql(world.db, "SELECT count(*) AS n FROM upload_chunks");
  assert.equal((stored as { n: number }).n, 0, "A rejected upload leaves no chunks behind");
});

Deno.test("POST /v1/reports answers 413 when the CSV has more lines than REPORTD_MAX_POINTS allows", async () => {
  await using world = await testApp({ maxPoints: 3 });
  const csv = "t,v\n1,1\n2,2\n3,3\n4,4\n";
  const problem = await assertProblem(await postReport(world, csv), 413);
  assert.equal(problem.type, "/problems/payload-too-large");
});

Deno.test("POST /v1/reports answers 422 for visibly unusable CSV", async (t) => {
  await using world = await testApp();
  const cases: [string, string, RegExp][] = [
    ["header only", "timestamp,value\n", /no data rows/i],
    ["no numeric column", "timestamp\n2020-01-01\n", /column/i],
    ["no time column", "when,value\nsoon,1\n", /No time column/],
    ["duplicate column names", "t,a,a\n1,2,3\n", /a/],
    ["empty body", "", /empty/i],
  ];
  for (const [name, csv, detail] of cases) {
    await t.step(name, async () => {
      const problem = await assertProblem(await postReport(world, csv), 422);
      assert.equal(problem.type, "/problems/invalid-input");
      assert.match(problem.detail ?? "", detail);
    });
  }
});

Deno.test("POST /v1/reports answers 400 at once for a small body that is not valid JSON", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, '{"timestamps": [', { contentType: "application/json" }),
    400,
  );
  assert.equal(problem.type, "/problems/malformed-body");
});

Deno.test("POST /v1/reports answers 400 or 422 for a body that is not a JSON object", async () => {
  await using world = await testApp();
  const notJson = await assertProblem(
    await postReport(world, "hello", { contentType: "application/json" }),
    400,
  );
  assert.equal(notJson.type, "/problems/malformed-body");
  const array = await assertProblem(
    await postReport(world, "[1, 2]", { contentType: "application/json" }),
    422,
  );
  assert.equal(array.errors?.[0].path, "body");
});

Deno.test("Content problems found by the worker fail the report with a problem object", async (t) => {
  await using world = await testApp();
  const cases: [string, BodyInit, string, string, RegExp][] = [
    ["no valid rows", "t,v\nyesterday,1\n", "text/csv", "/problems/invalid-input", /rejected/],
    [
      // Past the 64 KiB head that the request path reads, JSON is only parsed by the worker.
      "truncated large JSON",
      `{"timestamps": [${'"2020-01-01",'.repeat(10_000)}`,
      "application/json",
      "/problems/malformed-body",
      /not valid JSON/,
    ],
    [
      "wrong JSON envelope",
      JSON.stringify({ timestamps: ["2020-01-01", "2020-01-02"], columns: { value: [1] } }),
      "application/json",
      "/problems/invalid-input",
      /./,
    ],
    [
      "invalid UTF-8",
      new Uint8Array([...new TextEncoder().encode("t,v\n1,"), 0xff, 0xfe, 0x0a]),
      "text/csv",
      "/problems/invalid-input",
      /UTF-8/,
    ],
  ];
  for (const [name, body, contentType, type, detail] of cases) {
    await t.step(name, async () => {
      const report = await createSettledReport(world, body, { contentType });
      assert.equal(report.status, "failed");
      assert.equal(report.error.type, type);
      assert.match(report.error.detail, detail);
      assert.equal(report.summary, null);
      assert.ok(report.finished_at);
      const series = await assertProblem(
        await world.app.request(`/v1/reports/${report.id}/series`),
        422,
      );
      assert.match(series.detail ?? "", /failed/);
    });
  }
});

Deno.test("A report with no valid rows keeps the rejected-row examples in its error", async () => {
  await using world = await testApp();
  const report = await createSettledReport(world, "t,v\nyesterday,1\n2020-01-01,abc\n");
  assert.deepEqual(report.error.errors.map((error: { path: string }) => error.path), [
    "line.2",
    "line.3",
  ]);
});

Deno.test("POST /v1/reports answers 400 for a name longer than 200 characters", async () => {
  await using world = await testApp();
  const problem = await assertProblem(
    await postReport(world, "t,v\n1,2\n", { query: `?name=${"x".repeat(201)}` }),
    400,
  );
  assert.equal(problem.errors?.[0].path, "query.name");
});

Deno.test("Idempotency-Key: the same body returns the same report with 200", async () => {
  await using world = await testApp({ startQueue: false });
  const headers = { "idempotency-key": "upload-42" };
  const first = await postReport(world, SAMPLE_CSV, { headers });
  assert.equal(first.status, 202);
  const { id } = await first.json();
  const again = await postReport(world, SAMPLE_CSV, { headers });
  assert.equal(again.status, 200);
  assert.equal((await again.json()).id, id);
  assert.equal(again.headers.get("location"), `/v1/reports/${id}`);
  const list = await (await world.app.request("/v1/reports")).json();
  assert.equal(list.items.length, 1, "A retry creates no second report");
  const [chunks] = await querySql(
    world.db,
    "SELECT count(DISTINCT upload_id) AS n FROM upload_chunks",
  ) as { n: number }[];
  assert.equal(chunks.n, 1, "The retry's copy of the body is not kept");
});

Deno.test("Idempotency-Key: the same key with another body is a 422 problem", async () => {
  await using world = await testApp({ startQueue: false });
  const headers = { "idempotency-key": "upload-43" };
  assert.equal((await postReport(world, SAMPLE_CSV, { headers })).status, 202);
  const problem = await assertProblem(
    await postReport(world, "t,v\n1,2\n", { headers }),
    422,
  );
  assert.equal(problem.errors?.[0].path, "header.idempotency-key");
});

Deno.test("Idempotency-Key: an unprintable or over-long key is a 400 problem", async () => {
  await using world = await testApp({ startQueue: false });
  for (const key of ["x".repeat(256), "tab\there"]) {
    const problem = await assertProblem(
      await postReport(world, SAMPLE_CSV, { headers: { "idempotency-key": key } }),
      400,
    );
    assert.equal(problem.errors?.[0].path, "header.idempotency-key");
  }
});

Deno.test("A full queue answers 503 with Retry-After; idempotent retries still work", async () => {
  await using world = await testApp({ startQueue: false, queueMax: 1 });
  const headers = { "idempotency-key": "first" };
  const first = await postReport(world, SAMPLE_CSV, { headers });
  assert.equal(first.status, 202);
  const full = await postReport(world, SAMPLE_CSV);
  assert.ok(Number(full.headers.get("retry-after")) >= 1);
  const problem = await assertProblem(full, 503);
  assert.match(problem.detail ?? "", /queue is full/);
  // Once the queue drains, the same request succeeds.
  const done = settled(world.queue, (await first.json()).id);
  await world.queue.start();
  await done;
  assert.equal((await postReport(world, SAMPLE_CSV)).status, 202);
});

Deno.test("Uploads beyond REPORTD_MAX_INFLIGHT_UPLOADS answer 503 at once", async () => {
  await using world = await testApp({ maxInflightUploads: 1 });
  const reading = Promise.withResolvers<void>();
  let finish!: () => void;
  // highWaterMark 0: the stream is pulled only when the server reads the body
  // (after it took the upload slot), not as soon as the request is built; on
  // PostgreSQL the handler's first query takes a round trip before that.
  const held = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new TextEncoder().encode("t,v\n1,2\n"));
      reading.resolve();
      // Hold the body open until the test says so.
      return new Promise<void>((resolve) => {
        finish = () => {
          controller.close();
          resolve();
        };
      });
    },
  }, { highWaterMark: 0 });
  const slow = postReport(world, held);
  // Once the server reads the first upload's body, that upload holds the only slot.
  await reading.promise;
  const second = await postReport(world, SAMPLE_CSV);
  assert.equal(second.headers.get("retry-after"), "1");
  await assertProblem(second, 503);
  finish();
  assert.equal((await slow).status, 202);
  assert.equal((await postReport(world, SAMPLE_CSV)).status, 202);
});
