/**
 * PostgreSQL: the job queue's storage (raw upload chunks, jobs with their
 * leases, idempotency keys), the only SQL about them for this engine.
 *
 * Many instances share these tables, so every claim and every change of a
 * claimed job is a row-locked transaction: claims take the oldest queued job
 * with `FOR UPDATE SKIP LOCKED` (instances never wait for each other or take
 * the same job), and completing, failing, requeueing or renewing first locks
 * the job row and checks the claim's token (a fenced update).
 *
 * @module
 */
import type {
  ClaimedJob,
  ClaimOptions,
  EnqueueResult,
  FencedOutcome,
  IdempotencyRecord,
  JobFailure,
  JobLease,
  JobResult,
  NewJob,
  PurgeResult,
  ReportRecord,
  RequeueOptions,
  SweepOptions,
  SweepResult,
} from "../types.ts";
import { JOBS_CHANNEL } from "../types.ts";
import {
  type Client,
  execute,
  type PostgresConnection as Database,
  rows,
  run,
  transaction,
} from "./connection.ts";
import { insertReportRow, insertSeries } from "./reports.ts";
import {
  fromRow,
  JOB_COLUMNS,
  type JobRow,
  jobValues,
  joinChunks,
  REPORT_COLUMNS,
  type ReportRow,
  reportValues,
  type SeriesColumnRow,
  seriesColumnRows,
  toClaimedJob,
} from "../rows.ts";

/** Appends one chunk of a raw upload (its own small transaction, so memory stays one chunk). */
export function appendUploadChunk(
  db: Database,
  uploadId: string,
  chunk: { seq: number; data: Uint8Array },
): Promise<void> {
  return run("store the upload", async () => {
    await execute(
      db,
      "INSERT INTO upload_chunks (upload_id, seq, data, created_at) VALUES ($1, $2, $3, $4)",
      [uploadId, chunk.seq, chunk.data, new Date().toISOString()],
    );
  });
}

/** Deletes a raw upload. */
export function deleteUpload(db: Database, uploadId: string): Promise<void> {
  return run("delete the upload", async () => {
    await execute(db, "DELETE FROM upload_chunks WHERE upload_id = $1", [uploadId]);
  });
}

/** Reads a raw upload back as one contiguous buffer of `bytes` bytes. */
export function readUpload(db: Database, uploadId: string, bytes: number): Promise<Uint8Array> {
  return run("read the upload", async () => {
    const chunks = await rows<{ data: Uint8Array }>(
      db,
      "SELECT data FROM upload_chunks WHERE upload_id = $1 ORDER BY seq",
      [uploadId],
    );
    return joinChunks(chunks, { uploadId, bytes });
  });
}

/**
 * Creates a queued report and its job in one transaction, honouring an
 * Idempotency-Key. The key goes in first with `ON CONFLICT DO NOTHING`: when
 * two instances race with one key, the second waits on the first one's
 * uncommitted row and then finds it, so it answers like a retry (its upload
 * is deleted). `pg_notify` wakes idle instances when the transaction commits.
 */
export function enqueueReport(
  db: Database,
  report: ReportRecord,
  options: { job: NewJob; idempotency?: IdempotencyRecord; createdBy?: string },
): Promise<EnqueueResult> {
  if (options.idempotency === undefined) {
    return run("queue the report", () => enqueueAtOnce(db, report, options));
  }
  return run("queue the report", () =>
    transaction(db, async (client): Promise<EnqueueResult> => {
      const { job, idempotency } = options;
      if (idempotency !== undefined) {
        const inserted = await execute(
          client,
          "INSERT INTO idempotency_keys (key, body_sha256, report_id, created_at) " +
            "VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
          [idempotency.key, idempotency.bodySha256, report.id, idempotency.createdAt],
        );
        if (inserted === 0) return await replay(client, idempotency, job.uploadId);
      }
      await insertReportRow(client, report);
      if (job.lastChunk !== undefined) {
        await execute(
          client,
          "INSERT INTO upload_chunks (upload_id, seq, data, created_at) VALUES ($1, $2, $3, $4)",
          [job.uploadId, job.lastChunk.seq, job.lastChunk.data, new Date().toISOString()],
        );
      }
      if (options.createdBy !== undefined) {
        await execute(client, "UPDATE reports SET created_by = $1 WHERE id = $2", [
          options.createdBy,
          report.id,
        ]);
      }
      await execute(
        client,
        `INSERT INTO jobs (report_id, ${JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [report.id, ...jobValues(job)],
      );
      await execute(client, "SELECT pg_notify($1, $2)", [JOBS_CHANNEL, report.id]);
      return { outcome: "created" };
    }));
}

/**
 * Without an Idempotency-Key there is nothing to look up first, so the
 * report, its job, the upload's last chunk and the announcement go in one
 * statement: one round trip, atomic as a statement is, instead of seven
 * (BEGIN, four statements, the notify, COMMIT). The foreign key from the job
 * to its report is checked at the statement's end. 32 clients of small
 * uploads went from 736 to 956 a second on the test cluster (bench/ingest.ts
 * --database=postgres, docs/benchmarks.md, issue 15).
 */
async function enqueueAtOnce(
  db: Database,
  report: ReportRecord,
  options: { job: NewJob; createdBy?: string },
): Promise<EnqueueResult> {
  const { job } = options;
  await execute(
    db,
    `WITH report AS (INSERT INTO reports (${REPORT_COLUMNS}, created_by) ` +
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id), " +
      `job AS (INSERT INTO jobs (report_id, ${JOB_COLUMNS}) ` +
      "SELECT id, $14::text, $15::text, $16::bigint, $17::integer, $18::text, $19::text, $20::text " +
      "FROM report), " +
      "chunk AS (INSERT INTO upload_chunks (upload_id, seq, data, created_at) " +
      "SELECT $14::text, $21::integer, $22::bytea, $23::text WHERE $21::integer IS NOT NULL) " +
      "SELECT pg_notify($24, id) FROM report",
    [
      ...reportValues(report),
      options.createdBy ?? null,
      ...jobValues(job),
      job.lastChunk?.seq ?? null,
      job.lastChunk?.data ?? null,
      new Date().toISOString(),
      JOBS_CHANNEL,
    ],
  );
  return { outcome: "created" };
}

async function replay(
  client: Client,
  idempotency: IdempotencyRecord,
  uploadId: string,
): Promise<EnqueueResult> {
  await execute(client, "DELETE FROM upload_chunks WHERE upload_id = $1", [uploadId]);
  const [existing] = await rows<{ body_sha256: string; report_id: string }>(
    client,
    "SELECT body_sha256, report_id FROM idempotency_keys WHERE key = $1",
    [idempotency.key],
  );
  if (existing === undefined) {
    // The other request's report was deleted between its commit and now.
    throw new Error("The idempotency key's report vanished while it was looked up");
  }
  if (existing.body_sha256 !== idempotency.bodySha256) return { outcome: "key_reused" };
  const [row] = await rows<ReportRow>(
    client,
    `SELECT ${REPORT_COLUMNS} FROM reports WHERE id = $1`,
    [existing.report_id],
  );
  return { outcome: "replayed", report: fromRow(row) };
}

/**
 * Claims the oldest queued job whose backoff has passed, skipping rows other
 * instances are claiming at this moment (`SKIP LOCKED`): counts the attempt
 * and leases the job to `options.holder` with a new token.
 *
 * One statement, so one round trip and no transaction held open between
 * round trips: the row locks taken by the first CTE last until the
 * statement commits, and both updates see its row. It was five round trips
 * (BEGIN, SELECT ... FOR UPDATE, two UPDATEs, COMMIT) holding those locks
 * across all of them (docs/benchmarks.md, issue 15).
 */
export function claimNextJob(
  db: Database,
  options: ClaimOptions,
): Promise<ClaimedJob | undefined> {
  return run("claim a job", async () => {
    const lease = { holder: options.holder, token: crypto.randomUUID() };
    const [row] = await rows<JobRow>(
      db,
      `WITH next AS (
         SELECT r.id FROM reports r JOIN jobs j ON j.report_id = r.id
         WHERE r.status = 'queued' AND (j.not_before IS NULL OR j.not_before <= $1)
         ORDER BY r.queued_at, r.id LIMIT 1 FOR UPDATE OF r, j SKIP LOCKED
       ), started AS (
         UPDATE reports r SET status = 'processing', started_at = $1, updated_at = $1
         FROM next WHERE r.id = next.id RETURNING r.id
       )
       UPDATE jobs j SET attempts = j.attempts + 1, locked_by = $2, lease_token = $3,
         lease_expires_at = $4, not_before = NULL
       FROM started WHERE j.report_id = started.id
       RETURNING j.report_id, j.upload_id, j.format, j.bytes, j.attempts, j.name_from_body,
         j.traceparent, j.import_source, j.parse_options`,
      [
        options.now,
        lease.holder,
        lease.token,
        new Date(Date.parse(options.now) + options.leaseMs).toISOString(),
      ],
    );
    return row === undefined ? undefined : toClaimedJob(row, lease);
  });
}

/** Extends a held lease to `until`; `lost` when another claim took the job over. */
export function renewLease(
  db: Database,
  reportId: string,
  lease: JobLease,
  until: string,
): Promise<FencedOutcome> {
  return run("renew the job's lease", async () => {
    // One statement is enough here: it is atomic, and the token is its fence.
    const changed = await execute(
      db,
      "UPDATE jobs SET lease_expires_at = $1 WHERE report_id = $2 AND locked_by = $3 " +
        "AND lease_token = $4",
      [until, reportId, lease.holder, lease.token],
    );
    if (changed > 0) return "done";
    const found = await rows(db, "SELECT 1 FROM jobs WHERE report_id = $1", [reportId]);
    return found.length === 0 ? "gone" : "lost";
  });
}

/**
 * Series up to this many bytes are stored by {@linkcode completeJob} in one
 * statement; larger ones a column per statement, so the driver never builds
 * one message holding a whole large series beside its columns (the 1M-row
 * upload's peak RSS, issue 15's goal 5, counts every such copy).
 */
const ONE_STATEMENT_SERIES_BYTES = 1024 * 1024;

/** Stores a job's result and marks the report ready, fenced by the claim's token. */
export function completeJob(
  db: Database,
  reportId: string,
  lease: JobLease,
  result: JobResult,
): Promise<FencedOutcome> {
  const columns = seriesColumnRows(result.series);
  const bytes = columns.reduce((sum, column) => sum + column.data.byteLength, 0);
  if (bytes <= ONE_STATEMENT_SERIES_BYTES) {
    return run(
      "store the job's result",
      () => completeInOneStatement(db, reportId, { lease, result, columns }),
    );
  }
  return run("store the job's result", () =>
    transaction(db, async (client) => {
      const job = await fence(client, reportId, lease);
      if (typeof job === "string") return job;
      const name = job.name_from_body === 1 && result.name !== undefined ? result.name : null;
      await execute(
        client,
        "UPDATE reports SET status = 'ready', row_counts = $1, summary = $2, error = NULL, " +
          "name = coalesce($3, name), source = coalesce($4, source), finished_at = $5, " +
          "updated_at = $5 WHERE id = $6",
        [
          JSON.stringify(result.rowCounts),
          JSON.stringify(result.summary),
          name,
          result.source === undefined ? null : JSON.stringify(result.source),
          result.finishedAt,
          reportId,
        ],
      );
      await insertSeries(client, reportId, result.series);
      await execute(client, "DELETE FROM upload_chunks WHERE upload_id = $1", [job.upload_id]);
      await execute(client, "DELETE FROM jobs WHERE report_id = $1", [reportId]);
      return "done" as const;
    }));
}

/**
 * {@linkcode completeJob} for a small series: the fence, the report, every
 * column and both deletes in one statement, so one round trip in autocommit
 * instead of seven or more (BEGIN, the fence, the update, a statement per
 * column, two deletes, COMMIT), with the job row locked for the statement
 * alone. The fence is the `ok` CTE: every change is conditioned on it, so a
 * lost or deleted claim changes nothing; the counts tell which it was.
 */
async function completeInOneStatement(
  db: Database,
  reportId: string,
  { lease, result, columns }: { lease: JobLease; result: JobResult; columns: SeriesColumnRow[] },
): Promise<FencedOutcome> {
  const params: unknown[] = [
    reportId,
    lease.holder,
    lease.token,
    JSON.stringify(result.rowCounts),
    JSON.stringify(result.summary),
    result.name ?? null,
    result.source === undefined ? null : JSON.stringify(result.source),
    result.finishedAt,
  ];
  const values = columns.map((column) => {
    params.push(column.position, column.name, column.data);
    const last = params.length;
    return `($${last - 2}::integer, $${last - 1}::text, $${last}::bytea)`;
  });
  const [counts] = await rows<{ found: string; done: string }>(
    db,
    `WITH f AS (
       SELECT upload_id, name_from_body, locked_by, lease_token FROM jobs
       WHERE report_id = $1 FOR UPDATE
     ), ok AS (
       SELECT upload_id, name_from_body FROM f WHERE locked_by = $2 AND lease_token = $3
     ), r AS (
       UPDATE reports SET status = 'ready', row_counts = $4, summary = $5, error = NULL,
         name = coalesce(CASE WHEN ok.name_from_body = 1 THEN $6::text END, reports.name),
         source = coalesce($7::text, reports.source), finished_at = $8, updated_at = $8
       FROM ok WHERE reports.id = $1
     ), s AS (
       INSERT INTO series_columns (report_id, position, name, data)
       SELECT $1, v.position, v.name, v.data
       FROM (VALUES ${values.join(", ")}) AS v (position, name, data)
       WHERE EXISTS (SELECT 1 FROM ok)
     ), c AS (
       DELETE FROM upload_chunks u USING ok WHERE u.upload_id = ok.upload_id
     ), d AS (
       DELETE FROM jobs j USING ok WHERE j.report_id = $1 RETURNING 1
     )
     SELECT (SELECT count(*) FROM f) AS found, (SELECT count(*) FROM d) AS done`,
    params,
  );
  if (Number(counts.done) > 0) return "done";
  return Number(counts.found) === 0 ? "gone" : "lost";
}

/** Marks a report failed and releases the lease, fenced by the claim's token. */
export function failJob(
  db: Database,
  reportId: string,
  lease: JobLease,
  failure: JobFailure,
): Promise<FencedOutcome> {
  return run("record the job's failure", () =>
    transaction(db, async (client) => {
      const job = await fence(client, reportId, lease);
      if (typeof job === "string") return job;
      await execute(
        client,
        "UPDATE reports SET status = 'failed', error = $1, row_counts = coalesce($2, row_counts), " +
          "source = coalesce($3, source), finished_at = $4, updated_at = $4 WHERE id = $5",
        [
          JSON.stringify(failure.error),
          failure.rowCounts === undefined ? null : JSON.stringify(failure.rowCounts),
          failure.source === undefined ? null : JSON.stringify(failure.source),
          failure.finishedAt,
          reportId,
        ],
      );
      await execute(
        client,
        "UPDATE jobs SET last_error = $1, locked_by = NULL, lease_token = NULL, " +
          "lease_expires_at = NULL WHERE report_id = $2",
        [String(failure.error.detail ?? ""), reportId],
      );
      return "done" as const;
    }));
}

/** Puts a claimed job back in the queue and releases the lease, fenced by the claim's token. */
export function requeueJob(
  db: Database,
  reportId: string,
  lease: JobLease,
  options: RequeueOptions,
): Promise<FencedOutcome> {
  return run("requeue the job", () =>
    transaction(db, async (client) => {
      const job = await fence(client, reportId, lease);
      if (typeof job === "string") return job;
      await execute(
        client,
        "UPDATE reports SET status = 'queued', started_at = NULL, updated_at = $1 " +
          "WHERE id = $2 AND status = 'processing'",
        [options.now, reportId],
      );
      await execute(
        client,
        "UPDATE jobs SET last_error = coalesce($1, last_error), " +
          "attempts = greatest(0, attempts - $2), locked_by = NULL, lease_token = NULL, " +
          "lease_expires_at = NULL, not_before = $3 WHERE report_id = $4",
        [
          options.lastError ?? null,
          options.refundAttempt ? 1 : 0,
          options.notBefore ?? null,
          reportId,
        ],
      );
      await execute(client, "SELECT pg_notify($1, $2)", [JOBS_CHANNEL, reportId]);
      return "done" as const;
    }));
}

/**
 * Requeues `processing` jobs whose lease expired and deletes uploads that are
 * no job's and whose newest chunk is older than `orphanUploadsBefore`. Rows
 * another instance has locked (it is completing them) are skipped.
 */
export function sweepJobs(db: Database, options: SweepOptions): Promise<SweepResult> {
  return run("sweep expired jobs", () =>
    transaction(db, async (client) => {
      const all = options.everything === true;
      const reclaimed = await execute(
        client,
        "WITH expired AS (SELECT j.report_id FROM jobs j JOIN reports r ON r.id = j.report_id " +
          "WHERE r.status = 'processing' AND ($2 OR ((j.lease_expires_at IS NULL " +
          "OR j.lease_expires_at < $1) AND j.report_id <> ALL($3::text[]))) " +
          "FOR UPDATE OF j, r SKIP LOCKED), " +
          "released AS (UPDATE jobs SET locked_by = NULL, lease_token = NULL, " +
          "lease_expires_at = NULL FROM expired WHERE jobs.report_id = expired.report_id " +
          "RETURNING jobs.report_id) " +
          "UPDATE reports SET status = 'queued', started_at = NULL, updated_at = $1 " +
          "FROM released WHERE reports.id = released.report_id",
        [options.now, all, options.running ?? []],
      );
      if (reclaimed > 0) await execute(client, "SELECT pg_notify($1, '')", [JOBS_CHANNEL]);
      const orphanChunks = await execute(
        client,
        "DELETE FROM upload_chunks c WHERE NOT EXISTS " +
          "(SELECT 1 FROM jobs j WHERE j.upload_id = c.upload_id) AND c.upload_id IN " +
          "(SELECT upload_id FROM upload_chunks GROUP BY upload_id " +
          "HAVING $2 OR max(created_at) < $1)",
        [options.orphanUploadsBefore, all],
      );
      return { reclaimed, orphanChunks };
    }));
}

/** Counts queued jobs (for backpressure). */
export function countQueuedJobs(db: Database): Promise<number> {
  return run("count queued jobs", async () => {
    const [row] = await rows<{ n: number }>(
      db,
      "SELECT count(*)::integer AS n FROM reports WHERE status = 'queued'",
    );
    return row.n;
  });
}

/** How many queued jobs are ahead of this report's (0 when it is next). */
export function queuePosition(db: Database, reportId: string): Promise<number> {
  return run("locate the job", async () => {
    const [row] = await rows<{ n: number }>(
      db,
      "SELECT count(*)::integer AS n FROM reports r, reports me WHERE me.id = $1 " +
        "AND r.status = 'queued' AND (r.queued_at < me.queued_at " +
        "OR (r.queued_at = me.queued_at AND r.id < me.id))",
      [reportId],
    );
    return row.n;
  });
}

/** Deletes failed uploads past retention and idempotency keys past their time. */
export function purgeExpired(
  db: Database,
  options: { failedBefore: string; keysBefore: string },
): Promise<PurgeResult> {
  return run("purge expired data", () =>
    transaction(db, async (client) => {
      const expired = "SELECT j.upload_id FROM jobs j JOIN reports r ON r.id = j.report_id " +
        "WHERE r.status = 'failed' AND r.finished_at < $1";
      await execute(client, `DELETE FROM upload_chunks WHERE upload_id IN (${expired})`, [
        options.failedBefore,
      ]);
      const failedUploads = await execute(
        client,
        "DELETE FROM jobs WHERE report_id IN (SELECT id FROM reports " +
          "WHERE status = 'failed' AND finished_at < $1)",
        [options.failedBefore],
      );
      const idempotencyKeys = await execute(
        client,
        "DELETE FROM idempotency_keys WHERE created_at < $1",
        [options.keysBefore],
      );
      return { failedUploads, idempotencyKeys };
    }));
}

// Inside a transaction: locks the job row, then says whether it is still ours.
async function fence(
  client: Client,
  reportId: string,
  lease: JobLease,
): Promise<{ upload_id: string; name_from_body: number } | "lost" | "gone"> {
  const [row] = await rows<
    { upload_id: string; name_from_body: number; locked_by: string | null; lease_token: string }
  >(
    client,
    "SELECT upload_id, name_from_body, locked_by, lease_token FROM jobs WHERE report_id = $1 " +
      "FOR UPDATE",
    [reportId],
  );
  if (row === undefined) return "gone";
  return row.locked_by === lease.holder && row.lease_token === lease.token ? row : "lost";
}
