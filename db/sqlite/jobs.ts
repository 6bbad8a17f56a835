/**
 * SQLite: the job queue's storage (raw upload chunks, jobs with their leases,
 * idempotency keys), the only SQL about them for this engine.
 *
 * The queue lives in the database, not in memory, because "accepted" must
 * mean "durably stored": a report whose upload is committed here is processed
 * even if the process is killed a millisecond after answering 202. Every state
 * change is one transaction, so a crash leaves each job in exactly one state.
 *
 * @module
 */
import {
  groupCommit,
  noteWritten,
  relaxed,
  run,
  type SqliteConnection as Database,
  statement,
  transaction,
} from "./connection.ts";
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
import { insertReportRow, insertSeries } from "./reports.ts";
import {
  fromRow,
  JOB_COLUMNS,
  type JobRow,
  jobValues,
  joinChunks,
  REPORT_COLUMNS,
  type ReportRow,
  toClaimedJob,
} from "../rows.ts";

/** Appends one chunk of a raw upload. Chunks are numbered from 0 in body order. */
export function appendUploadChunk(
  db: Database,
  uploadId: string,
  chunk: { seq: number; data: Uint8Array },
): Promise<void> {
  // Not fsynced on its own: the commit that acknowledges the upload is (relaxed()).
  return run("store the upload", () =>
    relaxed(db, () => {
      statement(
        db,
        "INSERT INTO upload_chunks (upload_id, seq, data, created_at) VALUES (?, ?, ?, ?)",
      ).run(uploadId, chunk.seq, chunk.data, new Date().toISOString());
      noteWritten(db, chunk.data.byteLength);
    }));
}

/** Deletes a raw upload (an abandoned or rejected body, or a processed one). */
export function deleteUpload(db: Database, uploadId: string): Promise<void> {
  // Undone by a power loss, the orphan sweep deletes it again: not worth an fsync.
  return run("delete the upload", () =>
    relaxed(db, () => {
      statement(db, "DELETE FROM upload_chunks WHERE upload_id = ?").run(uploadId);
    }));
}

/**
 * Reads a raw upload back as one contiguous buffer of `bytes` bytes, ready to
 * be transferred to a worker without another copy.
 */
export function readUpload(db: Database, uploadId: string, bytes: number): Promise<Uint8Array> {
  return run("read the upload", () => {
    // One chunk at a time (iterate, not all): with all() every chunk was
    // alive at once beside the joined body, twice the upload's size.
    const chunks = statement(
      db,
      "SELECT data FROM upload_chunks WHERE upload_id = ? ORDER BY seq",
    ).iterate(uploadId) as unknown as Iterable<{ data: Uint8Array }>;
    return joinChunks(chunks, { uploadId, bytes });
  });
}

/**
 * Creates a queued report and its job in one transaction, honouring an
 * Idempotency-Key: a key seen before with the same body hash returns the
 * earlier report; with another hash, `key_reused`. In both cases the new
 * upload's chunks are deleted in the same transaction.
 *
 * BEGIN IMMEDIATE serializes concurrent requests with the same key, so two
 * retries racing each other cannot both create a report.
 */
export function enqueueReport(
  db: Database,
  report: ReportRecord,
  options: { job: NewJob; idempotency?: IdempotencyRecord; createdBy?: string },
): Promise<EnqueueResult> {
  // Shares its commit and fsync with concurrent uploads (groupCommit); the
  // caller answers 202 only after that commit.
  return run("queue the report", () =>
    groupCommit(db, (): EnqueueResult => {
      const { job, idempotency } = options;
      if (idempotency !== undefined) {
        const existing = statement(
          db,
          "SELECT body_sha256, report_id FROM idempotency_keys WHERE key = ?",
        ).get(idempotency.key) as { body_sha256: string; report_id: string } | undefined;
        if (existing !== undefined) {
          statement(db, "DELETE FROM upload_chunks WHERE upload_id = ?").run(job.uploadId);
          if (existing.body_sha256 !== idempotency.bodySha256) return { outcome: "key_reused" };
          const row = statement(db, `SELECT ${REPORT_COLUMNS} FROM reports WHERE id = ?`)
            .get(existing.report_id) as unknown as ReportRow;
          return { outcome: "replayed", report: fromRow(row) };
        }
      }
      insertReportRow(db, report);
      if (job.lastChunk !== undefined) {
        statement(
          db,
          "INSERT INTO upload_chunks (upload_id, seq, data, created_at) VALUES (?, ?, ?, ?)",
        ).run(job.uploadId, job.lastChunk.seq, job.lastChunk.data, new Date().toISOString());
        noteWritten(db, job.lastChunk.data.byteLength);
      }
      if (options.createdBy !== undefined) {
        // Who created it is access control, not part of the report record.
        statement(db, "UPDATE reports SET created_by = ? WHERE id = ?").run(
          options.createdBy,
          report.id,
        );
      }
      statement(
        db,
        `INSERT INTO jobs (report_id, ${JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(report.id, ...jobValues(job));
      if (idempotency !== undefined) {
        statement(
          db,
          "INSERT INTO idempotency_keys (key, body_sha256, report_id, created_at) VALUES (?, ?, ?, ?)",
        ).run(idempotency.key, idempotency.bodySha256, report.id, idempotency.createdAt);
      }
      return { outcome: "created" };
    }));
}

/**
 * Claims the oldest queued job whose backoff has passed: marks its report
 * `processing`, stamps `started_at`, counts the attempt and gives the job a
 * lease held by `options.holder` with a new token. Returns undefined when
 * nothing is claimable. (One process holds a SQLite file, so `BEGIN
 * IMMEDIATE` is all the locking a claim needs.)
 */
export function claimNextJob(
  db: Database,
  options: ClaimOptions,
): Promise<ClaimedJob | undefined> {
  // A claim lost to a power loss leaves the job queued: no fsync needed.
  return run("claim a job", () =>
    relaxed(db, () =>
      transaction(db, () => {
        const row = statement(
          db,
          "SELECT j.report_id, j.upload_id, j.format, j.bytes, j.attempts, j.name_from_body, " +
            "j.traceparent, j.import_source, j.parse_options FROM reports r JOIN jobs j ON j.report_id = r.id " +
            "WHERE r.status = 'queued' AND (j.not_before IS NULL OR j.not_before <= ?) " +
            "ORDER BY r.queued_at, r.id LIMIT 1",
        ).get(options.now) as JobRow | undefined;
        if (row === undefined) return undefined;
        const lease = { holder: options.holder, token: crypto.randomUUID() };
        statement(
          db,
          "UPDATE reports SET status = 'processing', started_at = ?, updated_at = ? WHERE id = ?",
        ).run(options.now, options.now, row.report_id);
        statement(
          db,
          "UPDATE jobs SET attempts = attempts + 1, locked_by = ?, lease_token = ?, " +
            "lease_expires_at = ?, not_before = NULL WHERE report_id = ?",
        ).run(
          lease.holder,
          lease.token,
          new Date(Date.parse(options.now) + options.leaseMs).toISOString(),
          row.report_id,
        );
        return toClaimedJob({ ...row, attempts: row.attempts + 1 }, lease);
      })));
}

/** Extends a held lease to `until`; `lost` when another claim took the job over. */
export function renewLease(
  db: Database,
  reportId: string,
  lease: JobLease,
  until: string,
): Promise<FencedOutcome> {
  // A renewal lost to a power loss only shortens a lease the restart clears anyway.
  return run("renew the job's lease", () =>
    relaxed(db, () =>
      transaction(db, () => {
        const outcome = fence(db, reportId, lease);
        if (outcome !== "done") return outcome;
        statement(db, "UPDATE jobs SET lease_expires_at = ? WHERE report_id = ?").run(
          until,
          reportId,
        );
        return outcome;
      })));
}

/**
 * Stores a job's result and marks the report ready, in one transaction: the
 * series, the summary, the status. The job and its raw upload are deleted,
 * since a ready report never needs them again. Fenced: `gone` when the report
 * was deleted meanwhile, `lost` when another claim holds the job now (the
 * result is then dropped).
 */
export function completeJob(
  db: Database,
  reportId: string,
  lease: JobLease,
  result: JobResult,
): Promise<FencedOutcome> {
  return run("store the job's result", () =>
    groupCommit(db, () => {
      const outcome = fence(db, reportId, lease);
      if (outcome !== "done") return outcome;
      const job = statement(db, "SELECT upload_id, name_from_body FROM jobs WHERE report_id = ?")
        .get(reportId) as { upload_id: string; name_from_body: number };
      const name = job.name_from_body === 1 && result.name !== undefined ? result.name : null;
      statement(
        db,
        "UPDATE reports SET status = 'ready', row_counts = ?, summary = ?, error = NULL, " +
          "name = coalesce(?, name), source = coalesce(?, source), finished_at = ?, " +
          "updated_at = ? WHERE id = ?",
      ).run(
        JSON.stringify(result.rowCounts),
        JSON.stringify(result.summary),
        name,
        result.source === undefined ? null : JSON.stringify(result.source),
        result.finishedAt,
        result.finishedAt,
        reportId,
      );
      insertSeries(db, reportId, result.series);
      statement(db, "DELETE FROM upload_chunks WHERE upload_id = ?").run(job.upload_id);
      statement(db, "DELETE FROM jobs WHERE report_id = ?").run(reportId);
      return outcome;
    }));
}

/**
 * Marks a report failed with a problem object and releases the lease. The job
 * row and its raw upload stay until the retention period ends, so an operator
 * can inspect or replay the input. Fenced like {@linkcode completeJob}.
 */
export function failJob(
  db: Database,
  reportId: string,
  lease: JobLease,
  failure: JobFailure,
): Promise<FencedOutcome> {
  return run("record the job's failure", () =>
    groupCommit(db, () => {
      const outcome = fence(db, reportId, lease);
      if (outcome !== "done") return outcome;
      statement(
        db,
        "UPDATE reports SET status = 'failed', error = ?, row_counts = coalesce(?, row_counts), " +
          "source = coalesce(?, source), finished_at = ?, updated_at = ? WHERE id = ?",
      ).run(
        JSON.stringify(failure.error),
        failure.rowCounts === undefined ? null : JSON.stringify(failure.rowCounts),
        failure.source === undefined ? null : JSON.stringify(failure.source),
        failure.finishedAt,
        failure.finishedAt,
        reportId,
      );
      statement(
        db,
        "UPDATE jobs SET last_error = ?, locked_by = NULL, lease_token = NULL, " +
          "lease_expires_at = NULL WHERE report_id = ?",
      ).run(String(failure.error.detail ?? ""), reportId);
      return outcome;
    }));
}

/**
 * Puts a claimed job back in the queue, keeping its place (its `queued_at`),
 * and releases the lease. `refundAttempt` uncounts the attempt when the job
 * was interrupted (shutdown) rather than failed; `notBefore` delays the next
 * claim (backoff). Fenced like {@linkcode completeJob}.
 */
export function requeueJob(
  db: Database,
  reportId: string,
  lease: JobLease,
  options: RequeueOptions,
): Promise<FencedOutcome> {
  return run("requeue the job", () =>
    groupCommit(db, () => {
      const outcome = fence(db, reportId, lease);
      if (outcome !== "done") return outcome;
      statement(
        db,
        "UPDATE reports SET status = 'queued', started_at = NULL, updated_at = ? " +
          "WHERE id = ? AND status = 'processing'",
      ).run(options.now, reportId);
      statement(
        db,
        "UPDATE jobs SET last_error = coalesce(?, last_error), attempts = max(0, attempts - ?), " +
          "locked_by = NULL, lease_token = NULL, lease_expires_at = NULL, not_before = ? " +
          "WHERE report_id = ?",
      ).run(
        options.lastError ?? null,
        options.refundAttempt ? 1 : 0,
        options.notBefore ?? null,
        reportId,
      );
      return outcome;
    }));
}

/**
 * Puts back to `queued` every `processing` job whose lease has expired (its
 * holder died or stalled), and deletes uploads that are no job's and whose
 * newest chunk is older than `orphanUploadsBefore` (bodies whose request
 * died). Work that a living process holds or is receiving is left alone.
 */
export function sweepJobs(db: Database, options: SweepOptions): Promise<SweepResult> {
  return run("sweep expired jobs", () =>
    transaction(db, () => {
      const all = options.everything ? 1 : 0;
      const expired = statement(
        db,
        "SELECT j.report_id FROM jobs j JOIN reports r ON r.id = j.report_id " +
          "WHERE r.status = 'processing' AND " +
          "(? = 1 OR ((j.lease_expires_at IS NULL OR j.lease_expires_at < ?) " +
          "AND j.report_id NOT IN (SELECT value FROM json_each(?))))",
      ).all(all, options.now, JSON.stringify(options.running ?? [])) as { report_id: string }[];
      for (const { report_id } of expired) {
        statement(
          db,
          "UPDATE reports SET status = 'queued', started_at = NULL, updated_at = ? WHERE id = ?",
        ).run(options.now, report_id);
        statement(
          db,
          "UPDATE jobs SET locked_by = NULL, lease_token = NULL, lease_expires_at = NULL " +
            "WHERE report_id = ?",
        ).run(report_id);
      }
      const orphans = statement(
        db,
        "DELETE FROM upload_chunks WHERE upload_id NOT IN (SELECT upload_id FROM jobs) " +
          "AND upload_id IN (SELECT upload_id FROM upload_chunks GROUP BY upload_id " +
          "HAVING ? = 1 OR max(created_at) < ?)",
      ).run(all, options.orphanUploadsBefore);
      return { reclaimed: expired.length, orphanChunks: Number(orphans.changes) };
    }));
}

/** Counts queued jobs (for backpressure). */
export function countQueuedJobs(db: Database): Promise<number> {
  return run("count queued jobs", () => {
    const row = statement(db, "SELECT count(*) AS n FROM reports WHERE status = 'queued'").get();
    return (row as { n: number }).n;
  });
}

/** How many queued jobs are ahead of this report's (0 when it is next). */
export function queuePosition(db: Database, reportId: string): Promise<number> {
  return run("locate the job", () => {
    const row = statement(
      db,
      "SELECT count(*) AS n FROM reports r, reports me WHERE me.id = ? AND r.status = 'queued' " +
        "AND (r.queued_at < me.queued_at OR (r.queued_at = me.queued_at AND r.id < me.id))",
    ).get(reportId);
    return (row as { n: number }).n;
  });
}

/**
 * Deletes the raw uploads (and job rows) of reports that failed before
 * `failedBefore`, and Idempotency-Keys created before `keysBefore`, so the
 * database does not grow without bound.
 */
export function purgeExpired(
  db: Database,
  options: { failedBefore: string; keysBefore: string },
): Promise<PurgeResult> {
  return run("purge expired data", () =>
    transaction(db, () => {
      const expired = "SELECT j.upload_id FROM jobs j JOIN reports r ON r.id = j.report_id " +
        "WHERE r.status = 'failed' AND r.finished_at < ?";
      statement(db, `DELETE FROM upload_chunks WHERE upload_id IN (${expired})`)
        .run(options.failedBefore);
      const jobs = statement(
        db,
        "DELETE FROM jobs WHERE report_id IN (SELECT id FROM reports " +
          "WHERE status = 'failed' AND finished_at < ?)",
      ).run(options.failedBefore);
      const keys = statement(db, "DELETE FROM idempotency_keys WHERE created_at < ?")
        .run(options.keysBefore);
      return { failedUploads: Number(jobs.changes), idempotencyKeys: Number(keys.changes) };
    }));
}

// Inside a transaction: is the job still there, and still ours?
function fence(db: Database, reportId: string, lease: JobLease): FencedOutcome {
  const row = statement(db, "SELECT locked_by, lease_token FROM jobs WHERE report_id = ?")
    .get(reportId) as { locked_by: string | null; lease_token: string | null } | undefined;
  if (row === undefined) return "gone";
  return row.locked_by === lease.holder && row.lease_token === lease.token ? "done" : "lost";
}
