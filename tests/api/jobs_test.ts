import assert from "node:assert/strict";
import { querySql } from "../../db/mod.ts";
import { appendUploadChunk } from "../../db/jobs_repo.ts";
import { assertProblem } from "../helpers/assert_problem.ts";
import { generateCsv } from "../helpers/generate.ts";
import { processUpload } from "../../services/series/process.ts";
import {
  createSettledReport,
  postReport,
  SAMPLE_CSV,
  settled,
  testApp,
} from "../helpers/test_app.ts";

const FIXTURES = new URL("../fixtures/workers/", import.meta.url);

Deno.test("Lifecycle over HTTP: 202, then 409 with Retry-After while queued, then ready", async () => {
  await using world = await testApp({ startQueue: false });
  const accepted = await postReport(world, SAMPLE_CSV);
  assert.equal(accepted.status, 202);
  const { id } = await accepted.json();

  const early = await world.app.request(`/v1/reports/${id}/series`);
  assert.ok(Number(early.headers.get("retry-after")) >= 1, "Retry-After is a number of seconds");
  const problem = await assertProblem(early, 409);
  assert.match(problem.detail ?? "", /queued/);

  const done = settled(world.queue, id);
  await world.queue.start();
  assert.deepEqual(await done, { reportId: id, status: "ready" });
  const report = await (await world.app.request(`/v1/reports/${id}`)).json();
  assert.equal(report.status, "ready");
  assert.equal((await world.app.request(`/v1/reports/${id}/series`)).status, 200);
  const [upload] = await querySql(world.db, "SELECT count(*) AS n FROM upload_chunks");
  assert.equal((upload as { n: number }).n, 0, "The raw upload is deleted once ready");
});

Deno.test("A worker that throws is retried in a fresh worker, then the report fails", async () => {
  await using world = await testApp({
    workerUrl: new URL("throwing_worker.ts", FIXTURES),
    jobAttempts: 2,
  });
  const report = await createSettledReport(world, SAMPLE_CSV);
  assert.equal(report.status, "failed");
  assert.equal(report.error.type, "/problems/processing-failed");
  assert.match(report.error.detail, /after 2 attempt\(s\).*Poison input/);
  const [job] = await querySql(world.db, "SELECT attempts FROM jobs WHERE report_id = ?", [
    report.id,
  ]) as { attempts: number }[];
  assert.equal(job.attempts, 2);
  const [kept] = await querySql(world.db, "SELECT count(*) AS n FROM upload_chunks");
  assert.equal((kept as { n: number }).n, 1, "A failed report keeps its upload for inspection");
  assert.equal((await world.app.request("/healthz")).status, 200, "The server keeps serving");
});

Deno.test("A worker that never answers is abandoned after the task timeout and retried", async () => {
  await using world = await testApp({
    workerUrl: new URL("silent_worker.ts", FIXTURES),
    jobAttempts: 2,
    taskTimeoutMs: 100,
  });
  const report = await createSettledReport(world, SAMPLE_CSV);
  assert.equal(report.status, "failed");
  assert.match(report.error.detail, /did not finish within 100 ms/);
});

Deno.test("While a 1,000,000-row job runs, /healthz keeps answering", async () => {
  await using world = await testApp({ maxPoints: 2_000_000, maxBodyBytes: 64 * 1024 * 1024 });
  const accepted = await postReport(world, generateCsv(1_000_000));
  assert.equal(accepted.status, 202);
  const { id } = await accepted.json();
  let finished = false;
  const done = settled(world.queue, id).then((detail) => {
    finished = true;
    return detail;
  });
  let answeredWhileProcessing = 0;
  while (!finished) {
    const health = await world.app.request("/healthz");
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const { status } = await (await world.app.request(`/v1/reports/${id}`)).json();
    if (status === "processing" && !finished) answeredWhileProcessing++;
    // Yield to the event loop so the worker's answer can be delivered.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.equal((await done).status, "ready");
  assert.ok(answeredWhileProcessing > 0, "Health checks were answered during the job");
  const report = await (await world.app.request(`/v1/reports/${id}`)).json();
  assert.equal(report.summary.points, 1_000_000);
});

Deno.test("On start, jobs left processing by a crash are requeued and processed", async () => {
  await using world = await testApp({ startQueue: false });
  const { id } = await (await postReport(world, SAMPLE_CSV)).json();
  // Simulate a process that died mid-job.
  await querySql(world.db, "UPDATE reports SET status = 'processing' WHERE id = ?", [id]);
  await appendUploadChunk(world.db, "orphan-upload", { seq: 0, data: new Uint8Array([1]) });
  const done = settled(world.queue, id);
  const recovery = await world.queue.start();
  // On SQLite this process alone holds the file, so every leftover upload is
  // an orphan at start; on PostgreSQL another instance may be receiving it,
  // so only uploads untouched for an hour go (tests/contract/ covers that).
  assert.deepEqual(recovery, { recovered: 1, orphanChunks: world.db.exclusive ? 1 : 0 });
  assert.equal((await done).status, "ready");
});

Deno.test("Queued jobs are processed oldest first", async () => {
  await using world = await testApp({ startQueue: false, workers: 1 });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await (await postReport(world, SAMPLE_CSV)).json()).id);
  const order: string[] = [];
  world.queue.addEventListener("settled", (event) => {
    order.push((event as CustomEvent<{ reportId: string }>).detail.reportId);
  });
  const last = settled(world.queue, ids[2]);
  await world.queue.start();
  await last;
  assert.deepEqual(order, ids);
});

Deno.test("A drain that times out puts running jobs back to queued without charging an attempt", async () => {
  await using world = await testApp({
    workerUrl: new URL("silent_worker.ts", FIXTURES),
    startQueue: false,
  });
  const { id } = await (await postReport(world, SAMPLE_CSV)).json();
  const claimed = new Promise<void>((resolve) => {
    const check = async () => {
      const { status } = await (await world.app.request(`/v1/reports/${id}`)).json();
      if (status === "processing") resolve();
      else setTimeout(check, 5);
    };
    check();
  });
  await world.queue.start();
  await claimed;
  assert.deepEqual(await world.queue.drain(50), { finished: 0, requeued: 1 });
  const [row] = await querySql(
    world.db,
    "SELECT r.status, j.attempts FROM reports r JOIN jobs j ON j.report_id = r.id WHERE r.id = ?",
    [id],
  ) as { status: string; attempts: number }[];
  assert.deepEqual({ ...row }, { status: "queued", attempts: 0 });
});

Deno.test("Purging removes failed uploads past retention and idempotency keys past 24 h", async () => {
  await using world = await testApp({
    workerUrl: new URL("throwing_worker.ts", FIXTURES),
    jobAttempts: 1,
  });
  const report = await createSettledReport(world, SAMPLE_CSV, {
    headers: { "idempotency-key": "k1" },
  });
  assert.equal(report.status, "failed");
  const count = async (table: string) =>
    (await querySql(world.db, `SELECT count(*) AS n FROM ${table}`))[0].n;
  await world.queue.purge();
  assert.deepEqual([await count("upload_chunks"), await count("idempotency_keys")], [1, 1]);
  // Eight days later: past the 7-day retention and the 24-hour key lifetime.
  await querySql(world.db, "UPDATE reports SET finished_at = '2000-01-01T00:00:00.000Z'");
  await querySql(world.db, "UPDATE idempotency_keys SET created_at = '2000-01-01T00:00:00.000Z'");
  await world.queue.purge();
  assert.deepEqual(
    [await count("upload_chunks"), await count("idempotency_keys"), await count("jobs")],
    [0, 0, 0],
  );
  const still = await (await world.app.request(`/v1/reports/${report.id}`)).json();
  assert.equal(still.status, "failed", "The failed report itself stays");
});

Deno.test("Deleting a report while it is queued removes its job and upload", async () => {
  await using world = await testApp({ startQueue: false });
  const { id } = await (await postReport(world, SAMPLE_CSV)).json();
  assert.equal((await world.app.request(`/v1/reports/${id}`, { method: "DELETE" })).status, 204);
  const count = async (table: string) =>
    (await querySql(world.db, `SELECT count(*) AS n FROM ${table}`))[0].n;
  assert.deepEqual([await count("jobs"), await count("upload_chunks")], [0, 0]);
});

Deno.test("A large CSV parsed while it arrives gives the report the whole body gives; a replay drops its parse", async () => {
  await using world = await testApp({ maxBodyBytes: 8 * 1024 * 1024, maxPoints: 200_000 });
  // Two 1 MiB chunks and more, with rows the parser rejects: the worker is
  // handed the pieces as they are stored (JobQueue.openTap).
  const csv = generateCsv(120_000).replace(/\n1577836860,/, "\nnot a time,");
  const body = new TextEncoder().encode(csv);
  const upload = () =>
    world.app.request("/v1/reports", {
      method: "POST",
      body,
      headers: {
        "content-type": "text/csv",
        "content-length": String(body.byteLength),
        "idempotency-key": "big-one",
      },
    });
  const accepted = await upload();
  assert.equal(accepted.status, 202);
  const { id } = await accepted.json();
  assert.deepEqual(await settled(world.queue, id), { reportId: id, status: "ready" });
  const report = await (await world.app.request(`/v1/reports/${id}`)).json();
  const whole = await processUpload(body, { format: "csv", maxPoints: 200_000 });
  assert.deepEqual(report.rows, whole.rows);
  assert.equal(report.summary.points, whole.summary.points);
  assert.equal(report.summary.columns.value.p50, whole.summary.columns.value.p50);
  // The same key and body again: replayed, and the parse it started is dropped.
  const replay = await upload();
  assert.equal(replay.status, 200);
  assert.equal((await replay.json()).id, id);
  // The pool is whole afterwards: another upload is processed.
  const other = await postReport(world, SAMPLE_CSV);
  const otherId = (await other.json()).id;
  assert.deepEqual(await settled(world.queue, otherId), { reportId: otherId, status: "ready" });
  const [chunks] = await querySql(world.db, "SELECT count(*) AS n FROM upload_chunks");
  assert.equal(Number((chunks as { n: number }).n), 0);
});
