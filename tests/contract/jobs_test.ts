import assert from "node:assert/strict";
import {
  appendUploadChunk,
  claimNextJob,
  completeJob,
  countQueuedJobs,
  enqueueReport,
  failJob,
  JOBS_CHANNEL,
  type NewJob,
  queuePosition,
  readUpload,
  renewLease,
  requeueJob,
  sweepJobs,
} from "../../db/jobs_repo.ts";
import { type Database, listen, querySql, StorageError } from "../../db/mod.ts";
import { deleteReport, getReport, getSeries, listReports } from "../../db/reports_repo.ts";
import { contractTest, record } from "../helpers/engines.ts";

// In the past: chunks written by the test itself carry the real time, later than T0.
const T0 = "2020-06-01T00:00:00.000Z";
const LEASE = { holder: "instance-a", leaseMs: 30_000 };

function at(seconds: number): string {
  return new Date(Date.parse(T0) + seconds * 1000).toISOString();
}

let counter = 0;
/** Queues a report with a one-chunk upload; ids sort in creation order. */
async function queue(
  db: Database,
  options: { key?: string; body?: string; nameFromBody?: boolean } = {},
) {
  const id = `0190f5b8-0000-7000-8000-${String(++counter).padStart(12, "0")}`;
  const uploadId = `upload-${id}`;
  const body = new TextEncoder().encode(options.body ?? "t,v\n1,1\n");
  await appendUploadChunk(db, uploadId, { seq: 0, data: body });
  const result = await enqueueReport(db, { ...record(id, "queued"), queuedAt: T0 }, {
    job: {
      uploadId,
      format: "csv",
      bytes: body.byteLength,
      nameFromBody: options.nameFromBody ?? false,
    },
    idempotency: options.key === undefined
      ? undefined
      : { key: options.key, bodySha256: options.body ?? "", createdAt: T0 },
  });
  return { id, uploadId, result, bytes: body.byteLength };
}

const RESULT = {
  rowCounts: { received: 1 },
  summary: { points: 1 },
  series: { timestamps: new Float64Array([1]), names: ["v"], columns: [new Float64Array([1])] },
  finishedAt: at(5),
};

contractTest(
  "Jobs are claimed oldest first, each once, with a counted attempt and a lease",
  async (db) => {
    const first = await queue(db);
    const second = await queue(db);
    assert.equal(await countQueuedJobs(db), 2);
    assert.equal(await queuePosition(db, second.id), 1);
    const claimed = await claimNextJob(db, { now: T0, ...LEASE });
    assert.equal(claimed?.reportId, first.id);
    assert.equal(claimed?.attempts, 1);
    assert.equal(claimed?.lease.holder, "instance-a");
    assert.deepEqual(
      await readUpload(db, claimed!.uploadId, claimed!.bytes),
      new TextEncoder().encode("t,v\n1,1\n"),
    );
    const [row] = await querySql(
      db,
      "SELECT locked_by, lease_expires_at FROM jobs WHERE report_id = ?",
      [first.id],
    );
    assert.deepEqual({ ...row }, { locked_by: "instance-a", lease_expires_at: at(30) });
    assert.equal((await getReport(db, first.id))?.status, "processing");
    assert.equal((await claimNextJob(db, { now: T0, ...LEASE }))?.reportId, second.id);
    assert.equal(await claimNextJob(db, { now: T0, ...LEASE }), undefined);
  },
);

contractTest("Concurrent claims never hand out the same job twice", async (db) => {
  const ids = [(await queue(db)).id, (await queue(db)).id, (await queue(db)).id];
  const claims = await Promise.all(
    Array.from(
      { length: 6 },
      (_, index) => claimNextJob(db, { now: T0, holder: `instance-${index}`, leaseMs: 30_000 }),
    ),
  );
  const got = claims.filter((job) => job !== undefined).map((job) => job!.reportId).sort();
  assert.deepEqual(got, ids);
});

contractTest("Completing stores the result and deletes the job and its upload", async (db) => {
  const { id } = await queue(db);
  const job = (await claimNextJob(db, { now: T0, ...LEASE }))!;
  assert.equal(await completeJob(db, id, { lease: job.lease, result: RESULT }), "done");
  const report = await getReport(db, id);
  assert.equal(report?.status, "ready");
  assert.deepEqual(report?.summary, { points: 1 });
  assert.deepEqual(await getSeries(db, id), RESULT.series);
  const [counts] = await querySql(
    db,
    "SELECT (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM upload_chunks) AS chunks",
  );
  assert.deepEqual({ ...counts }, { jobs: 0, chunks: 0 });
});

// PostgreSQL stores a series of up to 1 MiB in one statement and a larger
// one a column per statement (db/postgres/jobs.ts): both sizes, both engines.
for (const points of [3, 70_000]) {
  contractTest(
    `Completing a ${points}-point series stores every column, names the report from its body, and is fenced`,
    async (db) => {
      const ramp = (scale: number) => Float64Array.from({ length: points }, (_, i) => i * scale);
      const result = {
        ...RESULT,
        name: "from the body",
        series: {
          timestamps: ramp(1000),
          names: ["open", "close"],
          columns: [ramp(0.5), ramp(2)],
        },
      };
      const named = await queue(db, { nameFromBody: true });
      const kept = await queue(db);
      const first = (await claimNextJob(db, { now: T0, ...LEASE }))!;
      const second = (await claimNextJob(db, { now: T0, ...LEASE }))!;
      assert.equal(
        await completeJob(db, named.id, { lease: second.lease, result }),
        "lost",
        "another job's lease is refused",
      );
      assert.equal(await completeJob(db, named.id, { lease: first.lease, result }), "done");
      assert.equal(await completeJob(db, kept.id, { lease: second.lease, result }), "done");
      assert.equal((await getReport(db, named.id))?.name, "from the body");
      assert.equal((await getReport(db, kept.id))?.name, record(kept.id).name);
      assert.deepEqual(await getSeries(db, named.id), result.series);
      assert.deepEqual(await getSeries(db, kept.id), result.series);
      assert.equal(await completeJob(db, named.id, { lease: first.lease, result }), "gone");
    },
  );
}

contractTest(
  "An expired lease is swept back to the queue and a late completion is refused",
  async (db) => {
    const { id } = await queue(db);
    const stale = (await claimNextJob(db, { now: T0, ...LEASE }))!;
    // A live lease is left alone.
    assert.deepEqual(await sweepJobs(db, { now: at(29), orphanUploadsBefore: T0 }), {
      reclaimed: 0,
      orphanChunks: 0,
    });
    assert.equal((await getReport(db, id))?.status, "processing");
    // Past it, the job is anyone's again; another instance claims it.
    assert.deepEqual(await sweepJobs(db, { now: at(31), orphanUploadsBefore: T0 }), {
      reclaimed: 1,
      orphanChunks: 0,
    });
    const fresh = (await claimNextJob(db, { now: at(32), holder: "instance-b", leaseMs: 30_000 }))!;
    assert.equal(fresh.attempts, 2, "Attempts are counted across instances");
    // The paused first instance wakes up: every fenced change is refused.
    assert.equal(await renewLease(db, id, { lease: stale.lease, until: at(90) }), "lost");
    assert.equal(await completeJob(db, id, { lease: stale.lease, result: RESULT }), "lost");
    assert.equal(
      await failJob(db, id, {
        lease: stale.lease,
        failure: { error: { detail: "x" }, finishedAt: at(40) },
      }),
      "lost",
    );
    assert.equal(await requeueJob(db, id, { lease: stale.lease, now: at(40) }), "lost");
    assert.equal((await getReport(db, id))?.status, "processing");
    // The holder of the current claim completes it.
    assert.equal(await completeJob(db, id, { lease: fresh.lease, result: RESULT }), "done");
    assert.equal((await getReport(db, id))?.status, "ready");
    assert.equal((await listReports(db, { limit: 10 })).length, 1, "Listed once");
  },
);

contractTest("A renewed lease is not swept", async (db) => {
  const { id } = await queue(db);
  const job = (await claimNextJob(db, { now: T0, ...LEASE }))!;
  assert.equal(await renewLease(db, id, { lease: job.lease, until: at(60) }), "done");
  assert.equal((await sweepJobs(db, { now: at(45), orphanUploadsBefore: T0 })).reclaimed, 0);
  assert.equal((await sweepJobs(db, { now: at(61), orphanUploadsBefore: T0 })).reclaimed, 1);
});

contractTest("A job deleted while it runs is gone for its holder", async (db) => {
  const { id } = await queue(db);
  const job = (await claimNextJob(db, { now: T0, ...LEASE }))!;
  assert.equal(await deleteReport(db, id), true);
  assert.equal(await completeJob(db, id, { lease: job.lease, result: RESULT }), "gone");
  assert.equal(await renewLease(db, id, { lease: job.lease, until: at(60) }), "gone");
  assert.equal(await getReport(db, id), undefined);
});

contractTest(
  "A requeued job waits for its backoff, keeps its place, and can refund the attempt",
  async (db) => {
    const { id } = await queue(db);
    const job = (await claimNextJob(db, { now: T0, ...LEASE }))!;
    assert.equal(
      await requeueJob(db, id, {
        lease: job.lease,
        now: at(1),
        lastError: "disk",
        notBefore: at(10),
      }),
      "done",
    );
    assert.equal((await getReport(db, id))?.status, "queued");
    assert.equal(
      await claimNextJob(db, { now: at(9), ...LEASE }),
      undefined,
      "Not before its time",
    );
    const again = (await claimNextJob(db, { now: at(10), ...LEASE }))!;
    assert.equal(again.attempts, 2);
    await requeueJob(db, id, { lease: again.lease, now: at(11), refundAttempt: true });
    const [row] = await querySql(
      db,
      "SELECT attempts, last_error, locked_by FROM jobs WHERE report_id = ?",
      [id],
    );
    assert.deepEqual({ ...row }, { attempts: 1, last_error: "disk", locked_by: null });
  },
);

contractTest("A failed job keeps its upload and releases its lease", async (db) => {
  const { id, uploadId, bytes } = await queue(db);
  const job = (await claimNextJob(db, { now: T0, ...LEASE }))!;
  const failure = { error: { type: "/problems/invalid-input", detail: "bad" }, finishedAt: at(1) };
  assert.equal(await failJob(db, id, { lease: job.lease, failure }), "done");
  const report = await getReport(db, id);
  assert.equal(report?.status, "failed");
  assert.deepEqual(report?.error, failure.error);
  assert.equal((await readUpload(db, uploadId, bytes)).byteLength, bytes);
  assert.equal((await sweepJobs(db, { now: at(99), orphanUploadsBefore: at(99) })).orphanChunks, 0);
});

contractTest(
  "Orphan uploads are swept by age; uploads being received and queued ones stay",
  async (db) => {
    const queued = await queue(db);
    await appendUploadChunk(db, "dead-request", { seq: 0, data: new Uint8Array([1]) });
    await appendUploadChunk(db, "dead-request", { seq: 1, data: new Uint8Array([2]) });
    await querySql(db, "UPDATE upload_chunks SET created_at = ? WHERE upload_id = ?", [
      T0,
      "dead-request",
    ]);
    await appendUploadChunk(db, "still-arriving", { seq: 0, data: new Uint8Array([3]) });
    await querySql(db, "UPDATE upload_chunks SET created_at = ? WHERE upload_id = ?", [
      T0,
      "still-arriving",
    ]);
    await appendUploadChunk(db, "still-arriving", { seq: 1, data: new Uint8Array([4]) });
    // An hour after T0: the dead request's newest chunk is older, the living one's is not.
    const swept = await sweepJobs(db, { now: at(3600), orphanUploadsBefore: at(1) });
    assert.deepEqual(swept, { reclaimed: 0, orphanChunks: 2 });
    const left = await querySql(
      db,
      "SELECT DISTINCT upload_id FROM upload_chunks ORDER BY upload_id",
    );
    assert.deepEqual(left.map((row) => row.upload_id), ["still-arriving", queued.uploadId].sort());
    // `everything` (a database only this process uses) takes every orphan at once.
    assert.deepEqual(
      await sweepJobs(db, { now: at(3600), orphanUploadsBefore: at(1), everything: true }),
      {
        reclaimed: 0,
        orphanChunks: 2,
      },
    );
  },
);

contractTest(
  "An Idempotency-Key makes one report; a retry replays it, another body is refused",
  async (db) => {
    const first = await queue(db, { key: "k1", body: "a" });
    assert.deepEqual(first.result, { outcome: "created" });
    const retry = await queue(db, { key: "k1", body: "a" });
    assert.equal(retry.result.outcome, "replayed");
    assert.equal((retry.result as { report: { id: string } }).report.id, first.id);
    assert.deepEqual((await queue(db, { key: "k1", body: "b" })).result, { outcome: "key_reused" });
    const chunks = await querySql(db, "SELECT DISTINCT upload_id FROM upload_chunks");
    assert.deepEqual(chunks.map((row) => row.upload_id), [first.uploadId], "Losers' uploads go");
  },
);

contractTest("One Idempotency-Key sent many times at once makes one report", async (db) => {
  const results = await Promise.all(
    Array.from({ length: 6 }, () => queue(db, { key: "race", body: "x" })),
  );
  const created = results.filter((entry) => entry.result.outcome === "created");
  assert.equal(created.length, 1);
  for (const entry of results) {
    if (entry.result.outcome === "replayed") assert.equal(entry.result.report.id, created[0].id);
    else assert.equal(entry.result.outcome, "created");
  }
  assert.equal((await listReports(db, { limit: 10 })).length, 1);
});

contractTest("A queued job is announced on the jobs channel", async (db) => {
  const heard = Promise.withResolvers<string | undefined>();
  const stop = listen(db, JOBS_CHANNEL, (payload) => heard.resolve(payload));
  try {
    // PostgreSQL's listener connects on the first listen: wait until it hears.
    let queued: { id: string } | undefined;
    const timer = setInterval(async () => queued ??= await queue(db), 100);
    const payload = await heard.promise;
    clearInterval(timer);
    assert.ok(payload === undefined || payload.startsWith("0190f5b8-"));
  } finally {
    stop();
  }
});

contractTest("A sweep leaves the jobs its instance is running to their heartbeat", async (db) => {
  const { id } = await queue(db);
  await claimNextJob(db, { now: T0, ...LEASE });
  const late = { now: at(31), orphanUploadsBefore: T0 };
  assert.equal((await sweepJobs(db, { ...late, running: [id] })).reclaimed, 0);
  assert.equal((await getReport(db, id))?.status, "processing");
  assert.equal((await sweepJobs(db, { ...late, running: [] })).reclaimed, 1);
});

contractTest(
  "A queued report stores its upload's last chunk in the same transaction",
  async (db) => {
    const id = `0190f5b8-0000-7000-8000-${String(++counter).padStart(12, "0")}`;
    const uploadId = `upload-${id}`;
    const head = new TextEncoder().encode("t,v\n");
    const last = new TextEncoder().encode("1,1\n");
    await appendUploadChunk(db, uploadId, { seq: 0, data: head });
    const result = await enqueueReport(db, { ...record(id, "queued"), queuedAt: T0 }, {
      job: {
        uploadId,
        lastChunk: { seq: 1, data: last },
        format: "csv",
        bytes: head.byteLength + last.byteLength,
        nameFromBody: false,
      },
    });
    assert.equal(result.outcome, "created");
    const body = await readUpload(db, uploadId, head.byteLength + last.byteLength);
    assert.equal(new TextDecoder().decode(body), "t,v\n1,1\n");
  },
);

/** A job whose whole 8-byte CSV rides in the enqueue as its last chunk. */
function smallJob(uploadId: string): NewJob {
  return {
    uploadId,
    lastChunk: { seq: 0, data: new TextEncoder().encode("t,v\n1,1\n") },
    format: "csv",
    bytes: 8,
    nameFromBody: false,
  };
}

contractTest("A replayed Idempotency-Key stores none of the new upload", async (db) => {
  const first = await queue(db, { key: "k-last", body: "t,v\n1,1\n" });
  assert.equal(first.result.outcome, "created");
  const id = `0190f5b8-0000-7000-8000-${String(++counter).padStart(12, "0")}`;
  const uploadId = `upload-${id}`;
  const result = await enqueueReport(db, { ...record(id, "queued"), queuedAt: T0 }, {
    job: smallJob(uploadId),
    idempotency: { key: "k-last", bodySha256: "t,v\n1,1\n", createdAt: T0 },
  });
  assert.equal(result.outcome, "replayed");
  const chunks = await querySql(db, "SELECT count(*) AS n FROM upload_chunks WHERE upload_id = ?", [
    uploadId,
  ]);
  assert.equal(Number(chunks[0].n), 0);
});

contractTest("Of concurrent enqueues, one that fails fails alone", async (db) => {
  // Started together, so on SQLite they share one group commit: the failing
  // one (a duplicate report id) is rolled back to its savepoint and the
  // others are committed. PostgreSQL runs them as separate transactions.
  const ids = Array.from(
    { length: 8 },
    () => `0190f5b8-0000-7000-8000-${String(++counter).padStart(12, "0")}`,
  );
  const attempts = [...ids, ids[3]].map((id, index) => {
    const uploadId = `upload-${index}-${id}`;
    return enqueueReport(db, { ...record(id, "queued"), queuedAt: T0 }, {
      job: smallJob(uploadId),
    });
  });
  const settled = await Promise.allSettled(attempts);
  const failed = settled.filter((outcome) => outcome.status === "rejected");
  assert.equal(failed.length, 1);
  assert.ok((failed[0] as PromiseRejectedResult).reason instanceof StorageError);
  for (const id of ids) assert.equal((await getReport(db, id))?.status, "queued");
  assert.equal(await countQueuedJobs(db), 8);
  const chunks = await querySql(db, "SELECT count(*) AS n FROM upload_chunks");
  assert.equal(Number(chunks[0].n), 8, "The failed enqueue's chunk went with it");
});
