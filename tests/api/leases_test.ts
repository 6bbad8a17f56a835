import assert from "node:assert/strict";
import { querySql } from "../../db/mod.ts";
import { WorkerPool } from "../../services/jobs/pool.ts";
import { JobQueue, type JobSettledDetail } from "../../services/jobs/queue.ts";
import { postReport, SAMPLE_CSV, settled, testApp } from "../helpers/test_app.ts";

const FIXTURES = new URL("../fixtures/workers/", import.meta.url);

/** Resolves with the first `settled` event of `reportId`, whatever its status. */
function anySettled(queue: JobQueue, reportId: string): Promise<JobSettledDetail> {
  return new Promise((resolve) => {
    const listener: EventListener = (event) => {
      const detail = (event as CustomEvent<JobSettledDetail>).detail;
      if (detail.reportId !== reportId) return;
      queue.removeEventListener("settled", listener);
      resolve(detail);
    };
    queue.addEventListener("settled", listener);
  });
}

Deno.test("A job whose holder stopped renewing is taken over, and the late completion is refused", async () => {
  // Instance B: the test world's queue, with a real clock.
  await using world = await testApp({ startQueue: false, leaseMs: 3_000 });
  const { id } = await (await postReport(world, SAMPLE_CSV)).json();
  // Instance A answers late, and its clock runs a minute behind, so every
  // lease it takes or renews has already expired for B: as if A were paused.
  const paused = new JobQueue({
    db: world.db,
    pool: new WorkerPool({ size: 1, workerUrl: new URL("delayed_worker.ts", FIXTURES) }),
    maxAttempts: 3,
    maxPoints: 10_000,
    failedRetentionMs: 86_400_000,
    leaseMs: 3_000,
    holder: "paused-instance",
    now: () => new Date(Date.now() - 60_000),
  });
  const late = anySettled(paused, id);
  await paused.start();
  const claimedByA = async () =>
    (await querySql(world.db, "SELECT locked_by FROM jobs WHERE report_id = ?", [id]))[0]
      ?.locked_by === "paused-instance";
  while (!await claimedByA()) await new Promise((resolve) => setTimeout(resolve, 5));

  const done = settled(world.queue, id);
  await world.queue.start();
  assert.equal((await done).status, "ready", "B took the job over and finished it");
  // A's worker answers now; its completion is fenced out.
  assert.deepEqual(await late, { reportId: id, status: "queued" });
  const report = await (await world.app.request(`/v1/reports/${id}`)).json();
  assert.equal(report.status, "ready");
  assert.equal(report.summary.points, 4);
  const [counts] = await querySql(
    world.db,
    "SELECT (SELECT count(*) FROM series_columns WHERE report_id = ?) AS columns, " +
      "(SELECT count(*) FROM jobs) AS jobs",
    [id],
  );
  assert.deepEqual({ ...counts }, { columns: 3, jobs: 0 }, "One result stored, once");
  await paused.drain(1_000);
});

Deno.test("A persistent storage error is retried with backoff, then the report fails", async () => {
  await using world = await testApp({ startQueue: false, jobAttempts: 3, retryBaseMs: 20 });
  const { id } = await (await postReport(world, SAMPLE_CSV)).json();
  // The upload vanishes under the job: every read of it fails.
  await querySql(world.db, "DELETE FROM upload_chunks");
  const attempts: string[] = [];
  world.queue.addEventListener("settled", (event) => {
    attempts.push((event as CustomEvent<JobSettledDetail>).detail.status);
  });
  const done = settled(world.queue, id);
  await world.queue.start();
  assert.equal((await done).status, "failed");
  assert.deepEqual(attempts, ["queued", "queued", "failed"], "Three attempts, no more");
  const report = await (await world.app.request(`/v1/reports/${id}`)).json();
  assert.equal(report.error.type, "/problems/processing-failed");
  assert.match(report.error.detail, /Storage failed 3 time\(s\)/);
  const [job] = await querySql(world.db, "SELECT attempts FROM jobs WHERE report_id = ?", [id]);
  assert.equal(job.attempts, 3);
  assert.equal((await world.app.request("/healthz")).status, 200);
});
