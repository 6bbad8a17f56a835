/**
 * The job queue's storage: raw upload chunks, jobs, idempotency keys.
 *
 * The queue lives in SQLite, not in memory, because "accepted" must mean
 * "durably stored": a report whose upload is committed here is processed even
 * if the process is killed a millisecond after answering 202. Every state
 * change is one transaction, so a crash leaves each job in exactly one state.
 *
 * @module
 */
import { type Database, runStorage, statement, transaction } from "./mod.ts";
import {
  fromRow,
  insertReportRow,
  insertSeries,
  type JsonObject,
  REPORT_COLUMNS,
  type ReportRecord,
  type ReportRow,
  type StoredSeries,
} from "./reports_repo.ts";

/** What a worker needs to process one job. */
export interface ClaimedJob {
  reportId: string;
  uploadId: string;
  format: JobFormat;
  /** Size of the raw upload. */
  bytes: number;
  /** Attempts including this one. */
  attempts: number;
  /** Whether a name found in the (JSON) body should replace the default one. */
  nameFromBody: boolean;
  /** W3C trace context of the request that queued it, if any. */
  traceparent: string | null;
  /** For an import job, the provider source to fetch (instead of an upload). */
  importSource: JsonObject | null;
  /** The client's parse options (`?delimiter=` and the others), or null. */
  parseOptions: JsonObject | null;
}

/** How a job's bytes are encoded. */
export type JobFormat = "csv" | "json" | "ndjson" | "parquet";

/** A job to create together with its report. */
export interface NewJob {
  uploadId: string;
  format: JobFormat;
  bytes: number;
  nameFromBody: boolean;
  traceparent?: string;
  /** For an import job: the provider source; the upload is then empty. */
  importSource?: JsonObject;
  /** The client's parse options, when it gave any. */
  parseOptions?: JsonObject;
}

/** An Idempotency-Key to record with a new report. */
export interface IdempotencyRecord {
  key: string;
  bodySha256: string;
  createdAt: string;
}

/** What {@linkcode enqueueReport} did. */
export type EnqueueResult =
  | { outcome: "created" }
  | { outcome: "replayed"; report: ReportRecord }
  | { outcome: "key_reused" };

/** The output of a successful job. */
export interface JobResult {
  rowCounts: JsonObject;
  summary: JsonObject;
  series: StoredSeries;
  /** Replaces the report's `source` (an import records whether the cache answered). */
  source?: JsonObject;
  /** Replaces the report's name when the job was created with `nameFromBody`. */
  name?: string;
  finishedAt: string;
}

/** Appends one chunk of a raw upload. Chunks are numbered from 0 in body order. */
export function appendUploadChunk(
  db: Database,
  uploadId: string,
  chunk: { seq: number; data: Uint8Array },
): Promise<void> {
  return runStorage("store the upload", () => {
    statement(db, "INSERT INTO upload_chunks (upload_id, seq, data) VALUES (?, ?, ?)")
      .run(uploadId, chunk.seq, chunk.data);
  });
}

/** Deletes a raw upload (an abandoned or rejected body, or a processed one). */
export function deleteUpload(db: Database, uploadId: string): Promise<void> {
  return runStorage("delete the upload", () => {
    statement(db, "DELETE FROM upload_chunks WHERE upload_id = ?").run(uploadId);
  });
}

/**
 * Reads a raw upload back as one contiguous buffer of `bytes` bytes, ready to
 * be transferred to a worker without another copy.
 */
export function readUpload(db: Database, uploadId: string, bytes: number): Promise<Uint8Array> {
  return runStorage("read the upload", () => {
    const body = new Uint8Array(bytes);
    let offset = 0;
    const chunks = statement(
      db,
      "SELECT data FROM upload_chunks WHERE upload_id = ? ORDER BY seq",
    ).all(uploadId) as unknown as { data: Uint8Array }[];
    for (const { data } of chunks) {
      body.set(data, offset);
      offset += data.byteLength;
    }
    if (offset !== bytes) {
      throw new Error(`Upload ${uploadId} has ${offset} bytes stored, expected ${bytes}`);
    }
    return body;
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
  return runStorage("queue the report", () =>
    transaction(db, (): EnqueueResult => {
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
      if (options.createdBy !== undefined) {
        // Who created it is access control, not part of the report record.
        statement(db, "UPDATE reports SET created_by = ? WHERE id = ?").run(
          options.createdBy,
          report.id,
        );
      }
      statement(
        db,
        "INSERT INTO jobs (report_id, upload_id, format, bytes, name_from_body, traceparent, " +
          "import_source, parse_options) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ).run(
        report.id,
        job.uploadId,
        job.format,
        job.bytes,
        job.nameFromBody ? 1 : 0,
        job.traceparent ?? null,
        job.importSource === undefined ? null : JSON.stringify(job.importSource),
        job.parseOptions === undefined ? null : JSON.stringify(job.parseOptions),
      );
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
 * Claims the oldest queued job: marks its report `processing`, stamps
 * `started_at`, counts the attempt. Returns undefined when nothing is queued.
 */
export function claimNextJob(
  db: Database,
  options: { now: string },
): Promise<ClaimedJob | undefined> {
  return runStorage("claim a job", () =>
    transaction(db, () => {
      const row = statement(
        db,
        "SELECT j.report_id, j.upload_id, j.format, j.bytes, j.attempts, j.name_from_body, " +
          "j.traceparent, j.import_source, j.parse_options FROM reports r JOIN jobs j ON j.report_id = r.id " +
          "WHERE r.status = 'queued' ORDER BY r.queued_at, r.id LIMIT 1",
      ).get() as {
        report_id: string;
        upload_id: string;
        format: JobFormat;
        bytes: number;
        attempts: number;
        name_from_body: number;
        traceparent: string | null;
        import_source: string | null;
        parse_options: string | null;
      } | undefined;
      if (row === undefined) return undefined;
      statement(
        db,
        "UPDATE reports SET status = 'processing', started_at = ?, updated_at = ? WHERE id = ?",
      ).run(options.now, options.now, row.report_id);
      statement(db, "UPDATE jobs SET attempts = attempts + 1 WHERE report_id = ?")
        .run(row.report_id);
      return {
        reportId: row.report_id,
        uploadId: row.upload_id,
        format: row.format,
        bytes: row.bytes,
        attempts: row.attempts + 1,
        nameFromBody: row.name_from_body === 1,
        traceparent: row.traceparent,
        importSource: row.import_source === null ? null : JSON.parse(row.import_source),
        parseOptions: row.parse_options === null ? null : JSON.parse(row.parse_options),
      };
    }));
}

/**
 * Stores a job's result and marks the report ready, in one transaction: the
 * series, the summary, the status. The job and its raw upload are deleted,
 * since a ready report never needs them again. Returns false when the report
 * was deleted while it was being processed (the result is then dropped).
 */
export function completeJob(
  db: Database,
  reportId: string,
  result: JobResult,
): Promise<boolean> {
  return runStorage("store the job's result", () =>
    transaction(db, () => {
      const job = statement(db, "SELECT upload_id, name_from_body FROM jobs WHERE report_id = ?")
        .get(reportId) as { upload_id: string; name_from_body: number } | undefined;
      if (job === undefined) return false;
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
      return true;
    }));
}

/**
 * Marks a report failed with a problem object. The job row and its raw upload
 * stay until the retention period ends, so an operator can inspect or replay
 * the input. Returns false when the report no longer exists.
 */
export function failJob(
  db: Database,
  reportId: string,
  failure: { error: JsonObject; rowCounts?: JsonObject; source?: JsonObject; finishedAt: string },
): Promise<boolean> {
  return runStorage("record the job's failure", () =>
    transaction(db, () => {
      const result = statement(
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
      statement(db, "UPDATE jobs SET last_error = ? WHERE report_id = ?")
        .run(String(failure.error.detail ?? ""), reportId);
      return Number(result.changes) > 0;
    }));
}

/**
 * Puts a claimed job back in the queue, keeping its place (its `queued_at`).
 * `refundAttempt` uncounts the attempt when the job was interrupted (shutdown)
 * rather than failed, so a restart does not use up its retries.
 */
export function requeueJob(
  db: Database,
  reportId: string,
  options: { now: string; lastError?: string; refundAttempt?: boolean },
): Promise<void> {
  return runStorage("requeue the job", () =>
    transaction(db, () => {
      statement(
        db,
        "UPDATE reports SET status = 'queued', started_at = NULL, updated_at = ? " +
          "WHERE id = ? AND status = 'processing'",
      ).run(options.now, reportId);
      statement(
        db,
        "UPDATE jobs SET last_error = coalesce(?, last_error), " +
          "attempts = max(0, attempts - ?) WHERE report_id = ?",
      ).run(options.lastError ?? null, options.refundAttempt ? 1 : 0, reportId);
    }));
}

/**
 * Puts every `processing` job back to `queued`: at start, these are jobs whose
 * process died mid-way. Returns how many there were.
 */
export function requeueAbandonedJobs(db: Database, options: { now: string }): Promise<number> {
  return runStorage("recover abandoned jobs", () => {
    const result = statement(
      db,
      "UPDATE reports SET status = 'queued', started_at = NULL, updated_at = ? " +
        "WHERE status = 'processing'",
    ).run(options.now);
    return Number(result.changes);
  });
}

/** Counts queued jobs (for backpressure). */
export function countQueuedJobs(db: Database): Promise<number> {
  return runStorage("count queued jobs", () => {
    const row = statement(db, "SELECT count(*) AS n FROM reports WHERE status = 'queued'").get();
    return (row as { n: number }).n;
  });
}

/** How many queued jobs are ahead of this report's (0 when it is next). */
export function queuePosition(db: Database, reportId: string): Promise<number> {
  return runStorage("locate the job", () => {
    const row = statement(
      db,
      "SELECT count(*) AS n FROM reports r, reports me WHERE me.id = ? AND r.status = 'queued' " +
        "AND (r.queued_at < me.queued_at OR (r.queued_at = me.queued_at AND r.id < me.id))",
    ).get(reportId);
    return (row as { n: number }).n;
  });
}

/** What {@linkcode purgeExpired} removed. */
export interface PurgeResult {
  failedUploads: number;
  idempotencyKeys: number;
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
  return runStorage("purge expired data", () =>
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

/**
 * Deletes upload chunks that belong to no job: bodies whose request died
 * before its report was created. Only safe when no upload is streaming, i.e.
 * at start-up. Returns how many chunks went.
 */
export function deleteOrphanUploads(db: Database): Promise<number> {
  return runStorage("delete orphan uploads", () => {
    const result = statement(
      db,
      "DELETE FROM upload_chunks WHERE upload_id NOT IN (SELECT upload_id FROM jobs)",
    ).run();
    return Number(result.changes);
  });
}
