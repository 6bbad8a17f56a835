/**
 * The job queue's storage, engine-neutral: raw upload chunks, jobs with their
 * leases, idempotency keys. What services call; each function forwards to
 * the engine (db/sqlite/jobs.ts or db/postgres/jobs.ts, where the SQL is).
 *
 * The lease model is the same on both engines: a claim gives the job to one
 * holder until `lease_expires_at`, the holder renews it while the job runs,
 * and every later change of the job is fenced by the claim's token.
 *
 * @module
 */
import type { Database } from "./mod.ts";
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
} from "./types.ts";

export type {
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
  RequeueOptions,
  SweepOptions,
  SweepResult,
} from "./types.ts";

export { JOBS_CHANNEL } from "./types.ts";

/** Appends one chunk of a raw upload. Chunks are numbered from 0 in body order. */
export function appendUploadChunk(
  db: Database,
  uploadId: string,
  chunk: { seq: number; data: Uint8Array },
): Promise<void> {
  return db.repositories.appendUploadChunk(uploadId, chunk);
}

/** Deletes a raw upload (an abandoned or rejected body, or a processed one). */
export function deleteUpload(db: Database, uploadId: string): Promise<void> {
  return db.repositories.deleteUpload(uploadId);
}

/**
 * Reads a raw upload back as one contiguous buffer of `bytes` bytes, ready to
 * be transferred to a worker without another copy.
 */
export function readUpload(db: Database, uploadId: string, bytes: number): Promise<Uint8Array> {
  return db.repositories.readUpload(uploadId, bytes);
}

/**
 * Creates a queued report and its job in one transaction, honouring an
 * Idempotency-Key: a key seen before with the same body hash returns the
 * earlier report; with another hash, `key_reused`. In both cases the new
 * upload's chunks are deleted in the same transaction. Two requests racing
 * with one key (on one instance or two) make one report: a unique constraint
 * decides, and the loser answers like a retry. Committing announces the job
 * on {@linkcode JOBS_CHANNEL}.
 */
export function enqueueReport(
  db: Database,
  report: ReportRecord,
  options: { job: NewJob; idempotency?: IdempotencyRecord; createdBy?: string },
): Promise<EnqueueResult> {
  return db.repositories.enqueueReport(report, options);
}

/**
 * Claims the oldest claimable queued job (`FOR UPDATE SKIP LOCKED` on
 * PostgreSQL, so instances never wait for each other): counts the attempt and
 * leases the job to `options.holder`. Undefined when nothing is claimable.
 */
export function claimNextJob(
  db: Database,
  options: ClaimOptions,
): Promise<ClaimedJob | undefined> {
  return db.repositories.claimNextJob(options);
}

/** Extends a held lease to `until` (ISO-8601 UTC); `lost` when another claim holds the job. */
export function renewLease(
  db: Database,
  reportId: string,
  options: { lease: JobLease; until: string },
): Promise<FencedOutcome> {
  return db.repositories.renewLease(reportId, options.lease, options.until);
}

/**
 * Stores a job's result and marks the report ready, in one transaction; the
 * job and its raw upload go. Fenced: `lost` when the lease was taken over,
 * `gone` when the report was deleted meanwhile (the result is then dropped).
 */
export function completeJob(
  db: Database,
  reportId: string,
  options: { lease: JobLease; result: JobResult },
): Promise<FencedOutcome> {
  return db.repositories.completeJob(reportId, options.lease, options.result);
}

/**
 * Marks a report failed with a problem object; its job and raw upload stay for
 * the retention period. Fenced like {@linkcode completeJob}.
 */
export function failJob(
  db: Database,
  reportId: string,
  options: { lease: JobLease; failure: JobFailure },
): Promise<FencedOutcome> {
  return db.repositories.failJob(reportId, options.lease, options.failure);
}

/**
 * Puts a claimed job back in the queue, keeping its place; see
 * {@linkcode RequeueOptions} for refunds and backoff. Fenced like
 * {@linkcode completeJob}.
 */
export function requeueJob(
  db: Database,
  reportId: string,
  options: RequeueOptions & { lease: JobLease },
): Promise<FencedOutcome> {
  return db.repositories.requeueJob(reportId, options.lease, options);
}

/**
 * Requeues jobs whose lease expired and deletes uploads nobody is receiving
 * any more (by age). Safe while other instances run: it touches no live work.
 */
export function sweepJobs(db: Database, options: SweepOptions): Promise<SweepResult> {
  return db.repositories.sweepJobs(options);
}

/** Counts queued jobs (for backpressure). */
export function countQueuedJobs(db: Database): Promise<number> {
  return db.repositories.countQueuedJobs();
}

/** How many queued jobs are ahead of this report's (0 when it is next). */
export function queuePosition(db: Database, reportId: string): Promise<number> {
  return db.repositories.queuePosition(reportId);
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
  return db.repositories.purgeExpired(options);
}
