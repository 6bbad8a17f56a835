/**
 * The durable job queue: claims queued reports from the database oldest
 * first, hands them to the worker pool, stores results, retries crashes, and
 * drains on shutdown. The same code runs on SQLite (one process) and on
 * PostgreSQL (any number of instances sharing the queue).
 *
 * Why the database and not an in-memory queue: a report is "accepted" (202)
 * only once its upload and its job are committed, so a crash loses nothing.
 *
 * Leases: a claim leases the job to this instance for `leaseMs`, renewed by a
 * heartbeat every third of that while the job runs. Every instance sweeps
 * expired leases back to `queued` every sixth of the lease, so a job whose
 * instance died is taken over about one lease after its last heartbeat, by
 * whichever instance is alive, without a restart. Completing, failing and
 * requeueing are fenced by the claim's token: an instance that was paused
 * past its lease finds its late result refused. Start-up sweeps the same way
 * and so never touches another living instance's work (on SQLite, which one
 * process holds by a lock, it recovers everything at once).
 *
 * Storage errors while running a job count as an attempt and are retried
 * after an exponential backoff with jitter (the job is not claimable before
 * then), so a persistent failure ends as a failed report after
 * `maxAttempts`, never as a hot loop.
 *
 * @module
 */
import type { Database } from "../../db/mod.ts";
import { listen } from "../../db/mod.ts";
import {
  type ClaimedJob,
  claimNextJob,
  completeJob,
  countQueuedJobs,
  failJob,
  type FencedOutcome,
  JOBS_CHANNEL,
  purgeExpired,
  queuePosition,
  readUpload,
  renewLease,
  requeueJob,
  sweepJobs,
  type SweepResult,
} from "../../db/jobs_repo.ts";
import type { JsonObject } from "../../db/reports_repo.ts";
import { isStorageFull, StorageError } from "../../db/errors.ts";
import { AppError, describeError, type ErrorKind, type FieldError } from "../errors.ts";
import type { Importer } from "../providers/imports.ts";
import type { ImportSource } from "../providers/import_schema.ts";
import type { ParseOptions, SourceDialect } from "../series/dialect.ts";
import type { UploadFormat } from "../series/types.ts";
import { type JobResult, type JobTelemetry, UNOBSERVED_JOBS } from "../telemetry/jobs.ts";
import { getLogger } from "../telemetry/logger.ts";
import type { WorkerPool } from "./pool.ts";
import { type JobResponse, transferableBuffer } from "./protocol.ts";

const log = getLogger(["reportd", "jobs"]);

/** How often the queue looks for work it was not told about (another process, a missed notify). */
const POLL_INTERVAL_MS = 5_000;
/** How often expired uploads and idempotency keys are purged. */
const PURGE_INTERVAL_MS = 60 * 60_000;
/** Idempotency keys are honoured for this long. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** Assumed job duration before any job has finished, for Retry-After estimates. */
const DEFAULT_JOB_SECONDS = 2;
/**
 * An upload that is no job's and got no chunk for this long is a body whose
 * request died. Far longer than any living upload goes without a chunk: at
 * the slowest rate REPORTD_BODY_MIN_RATE allows (16 KiB/s), a 1 MiB chunk
 * takes about a minute.
 */
const ORPHAN_UPLOAD_AGE_MS = 60 * 60_000;
/** The longest backoff after a storage error. */
const MAX_RETRY_DELAY_MS = 5 * 60_000;
/** How long a job waits when the disk was full (jittered down to half). */
const DISK_FULL_RETRY_MS = 5_000;
/**
 * Jobs claimed per worker: one running, the rest waiting in the pool without
 * their bodies (loaded when a worker is free, so memory stays one body per
 * worker). Each job takes several turns of the event loop on the main
 * thread (claim, the worker's answer, the commit); with one job per worker,
 * a loop busy with 32 clients of small uploads let the workers idle between
 * jobs and finished 77 jobs/s while 1,100 uploads/s arrived, so the queue
 * grew and counting it (backpressure) slowed every upload. With four per
 * worker the next job is posted the moment a worker answers:
 * docs/benchmarks.md (issue 15).
 */
const PIPELINE_DEPTH = 4;

/** Options for {@linkcode JobQueue}. */
export interface JobQueueOptions {
  /** The database holding the queue. */
  db: Database;
  /** Where jobs run. */
  pool: WorkerPool;
  /** Tries per job (crashes and timeouts count) before it fails. */
  maxAttempts: number;
  /** Row limit passed to the parser. */
  maxPoints: number;
  /** How long a failed report's raw upload is kept. */
  failedRetentionMs: number;
  /** Clock, replaceable in tests. */
  now?: () => Date;
  /** A span and metrics per attempt, and the queue gauges; none by default. */
  telemetry?: JobTelemetry;
  /** Fetches the CSV of import jobs; without it, import jobs fail. */
  importer?: Pick<Importer, "fetch">;
  /** How long a claim holds a job without a heartbeat, in ms (default 30 s). */
  leaseMs?: number;
  /** This instance's name in `locked_by` (default: pid and a random suffix). */
  holder?: string;
  /** First backoff after a storage error, in ms, doubled per attempt (default 1 s). */
  retryBaseMs?: number;
  /**
   * While this answers true (the disk is full), no job is claimed: a job's
   * result would take the space that deletes and shutdown need. The poll
   * looks again every few seconds.
   */
  paused?: () => boolean;
  /**
   * Told when a job meets a full disk before anyone else noticed (a job's
   * result is often the write that fills it): releases the reserve, so the
   * job's own requeue fits and `paused` turns true. Without it the requeue
   * failed too and the report sat in `processing` until its lease ran out.
   */
  onDiskFull?: (error: unknown) => Promise<unknown>;
}

/** An upload being processed while it arrives ({@linkcode JobQueue.openTap}). */
export interface UploadTap {
  /** The next piece of the body, in order (copied). */
  write(piece: Uint8Array): void;
  /** The body is complete and stored as `uploadId`, whose report is about to be queued. */
  finish(uploadId: string): void;
  /** The upload was not queued (refused, failed, replayed): drop its processing. */
  abort(): void;
}

/** A stored failure: a problem kind, its detail and field errors. */
export interface JobError {
  kind: ErrorKind;
  detail: string;
  errors?: FieldError[];
}

/** What {@linkcode JobQueue.drain} did. */
export interface DrainResult {
  /** Jobs that finished during the drain. */
  finished: number;
  /** Jobs put back to `queued` because the timeout ran out. */
  requeued: number;
}

/** Detail of the `settled` event: a job left `processing`. */
export interface JobSettledDetail {
  reportId: string;
  /** `ready`, `failed`, or `queued` when it will be retried or was interrupted. */
  status: "ready" | "failed" | "queued";
}

/**
 * Moves reports from `queued` through `processing` to `ready` or `failed`.
 *
 * It is an `EventTarget` that dispatches `settled` (a `CustomEvent` with
 * {@linkcode JobSettledDetail}) whenever a job leaves `processing`, so tests
 * and instrumentation can await outcomes instead of sleeping.
 */
export class JobQueue extends EventTarget {
  readonly #options: JobQueueOptions;
  readonly #telemetry: JobTelemetry;
  readonly #running = new Map<
    string,
    { startedAt: number; done: Promise<void>; job: ClaimedJob; lost: boolean }
  >();
  readonly #leaseMs: number;
  readonly #holder: string;
  #unlisten: (() => void) | undefined;
  #accepting = false;
  #stopped = false;
  #pumping = false;
  #pumpAgain = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  readonly #retryTimers = new Set<ReturnType<typeof setTimeout>>();
  /** Exponentially weighted mean of recent job durations, in seconds. */
  #meanSeconds = DEFAULT_JOB_SECONDS;
  /** Answers of uploads processed while they arrived, by upload id, until their job is claimed. */
  readonly #prepared = new Map<string, Promise<JobResponse>>();
  /** The last claimed job's settling, which the next one's waits for. */
  #lastSettled: Promise<void> = Promise.resolve();

  /** Creates a stopped queue; call {@linkcode start}. */
  constructor(options: JobQueueOptions) {
    super();
    this.#options = options;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#holder = options.holder ?? `pid-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.#telemetry = options.telemetry ?? UNOBSERVED_JOBS;
    this.#telemetry.observeQueue(async () => ({
      queued: await countQueuedJobs(options.db),
      running: this.#running.size,
    }));
  }

  /** Jobs being processed right now. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Sweeps expired leases and orphaned uploads (on SQLite, which this process
   * alone holds, every leftover of a previous process), purges expired data,
   * listens for queued jobs and starts processing. Call once.
   */
  async start(): Promise<{ recovered: number; orphanChunks: number }> {
    const { db } = this.#options;
    const swept = await this.sweep({ everything: db.exclusive });
    await this.purge();
    this.#accepting = true;
    // Another instance queued a job (PostgreSQL NOTIFY), or the listening
    // connection came back after an outage (undefined): look for work.
    this.#unlisten = listen(db, JOBS_CHANNEL, () => this.notify());
    this.#timers.push(
      setInterval(() => this.notify(), POLL_INTERVAL_MS),
      setInterval(
        () => this.sweep().catch(logSweepFailure),
        Math.max(250, Math.floor(this.#leaseMs / 6)),
      ),
      setInterval(() => this.purge().catch(logPurgeFailure), PURGE_INTERVAL_MS),
    );
    // The timers are a safety net, not a reason to keep the process alive.
    for (const timer of this.#timers) timer.unref();
    this.#options.pool.warm();
    this.notify();
    return { recovered: swept.reclaimed, orphanChunks: swept.orphanChunks };
  }

  /**
   * Puts jobs whose lease expired back in the queue and deletes uploads
   * nobody has written to for an hour. `everything` recovers all leftovers
   * at once: only for a database this process alone uses.
   */
  async sweep(options: { everything?: boolean } = {}): Promise<SweepResult> {
    const now = this.#clock();
    const swept = await sweepJobs(this.#options.db, {
      now: now.toISOString(),
      orphanUploadsBefore: new Date(now.getTime() - ORPHAN_UPLOAD_AGE_MS).toISOString(),
      everything: options.everything,
      running: [...this.#running.keys()],
    });
    if (swept.reclaimed > 0) {
      log.warn("Requeued {reclaimed} job(s) whose lease expired (their process stopped)", {
        reclaimed: swept.reclaimed,
      });
      this.notify();
    }
    return swept;
  }

  /**
   * Starts processing a large upload while it is being received, when a
   * worker is idle (undefined otherwise: the job then reads the stored
   * upload as usual). Write each stored chunk to the tap; once the report is
   * queued, `finish` hands the answer to the job that claims the upload, so
   * a worker parses while the body arrives instead of after it was stored
   * (the 1,000,000-row CSV: see {@linkcode UploadStream}). Nothing about
   * durability changes: the job still exists only once committed, and a job
   * whose upload was not tapped here (a restart, another instance) reads
   * its chunks from storage.
   */
  openTap(
    upload: { format: UploadFormat; parse?: ParseOptions; expectedBytes?: number },
  ): UploadTap | undefined {
    if (!this.#accepting) return undefined;
    const stream = this.#options.pool.openStream({ ...upload, maxPoints: this.#options.maxPoints });
    if (stream === undefined) return undefined;
    let uploadId: string | undefined;
    return {
      write: (piece) => stream.write(piece),
      finish: (id) => {
        uploadId = id;
        this.#prepared.set(id, stream.end());
        // Claimed at once as a rule; bounded anyway (a job claimed by another
        // instance never takes its answer), oldest first out.
        while (this.#prepared.size > this.#options.pool.size * 2) {
          this.#prepared.delete(this.#prepared.keys().next().value!);
        }
      },
      abort: () => {
        if (uploadId !== undefined) this.#prepared.delete(uploadId);
        stream.abort();
      },
    };
  }

  /** Says that work may be waiting (a job was queued or a worker freed up). */
  notify(): void {
    if (!this.#accepting) return;
    this.#pump().catch(async (error) => {
      log.error("The job queue could not claim work: {error}", { error: describeError(error) });
      if (isStorageFull(error)) await this.#noteDiskFull(error);
    });
  }

  /**
   * Estimates how many seconds until the report's series is ready, from its
   * place in the queue, the pool size and recent job durations. Used for
   * `Retry-After`; an estimate, never a promise.
   */
  async estimateWaitSeconds(reportId: string): Promise<number> {
    const running = this.#running.get(reportId);
    const mean = this.#meanSeconds;
    if (running !== undefined) {
      return clampSeconds(mean - (performance.now() - running.startedAt) / 1000);
    }
    const ahead = await queuePosition(this.#options.db, reportId);
    const rounds = Math.floor(ahead / this.#options.pool.size) + 1;
    return clampSeconds(rounds * mean + (this.#running.size > 0 ? mean / 2 : 0));
  }

  /** Estimates when a full queue will have room again, for a 503's `Retry-After`. */
  async estimateDrainSeconds(): Promise<number> {
    const queued = await countQueuedJobs(this.#options.db);
    return clampSeconds((queued / this.#options.pool.size) * this.#meanSeconds);
  }

  /**
   * Stops claiming jobs and waits up to `timeoutMs` for running ones. Jobs
   * still running then are put back to `queued` (their attempt refunded) for
   * the next start, and the workers are terminated.
   */
  async drain(timeoutMs: number): Promise<DrainResult> {
    this.#accepting = false;
    this.#unlisten?.();
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    this.#prepared.clear();
    const before = this.#running.size;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      Promise.allSettled([...this.#running.values()].map((job) => job.done)).then(() => false),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), timeoutMs)),
    ]);
    clearTimeout(timer);
    let requeued = 0;
    if (timedOut) {
      // From here on, results of the abandoned jobs are ignored.
      this.#stopped = true;
      for (const [reportId, { job }] of this.#running) {
        try {
          await requeueJob(this.#options.db, reportId, {
            lease: job.lease,
            now: this.#now(),
            refundAttempt: true,
          });
        } catch (error) {
          // The database is unreachable: the lease runs out and a sweep requeues it.
          log.error("Could not requeue the job of report {report_id} at shutdown: {error}", {
            report_id: reportId,
            error: describeError(error),
          });
        }
        requeued++;
      }
    }
    this.#options.pool.terminate();
    return { finished: before - requeued, requeued };
  }

  /** Deletes failed uploads past retention and idempotency keys past 24 h. */
  async purge(): Promise<void> {
    const now = this.#clock().getTime();
    const purged = await purgeExpired(this.#options.db, {
      failedBefore: new Date(now - this.#options.failedRetentionMs).toISOString(),
      keysBefore: new Date(now - IDEMPOTENCY_TTL_MS).toISOString(),
    });
    if (purged.failedUploads + purged.idempotencyKeys > 0) {
      log.info("Purged {failedUploads} failed upload(s) and {idempotencyKeys} idempotency key(s)", {
        ...purged,
      });
    }
  }

  async #pump(): Promise<void> {
    // One pump at a time; a notify during a pump makes it go round once more.
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        while (
          this.#accepting && this.#running.size < this.#options.pool.size * PIPELINE_DEPTH &&
          this.#options.paused?.() !== true
        ) {
          const job = await claimNextJob(this.#options.db, {
            now: this.#now(),
            holder: this.#holder,
            leaseMs: this.#leaseMs,
          });
          if (job === undefined) break;
          if (this.#running.has(job.reportId)) {
            // An earlier attempt still runs here, but its lease ran out (this
            // process was paused past it) and a sweep requeued the job. Running
            // it twice here would count attempts until the report failed; with
            // jobs claimed ahead of the workers (PIPELINE_DEPTH) it happened.
            // Given back uncounted and held back for a lease's time, it goes
            // to another instance, or back here once the old attempt ended.
            await requeueJob(this.#options.db, job.reportId, {
              lease: job.lease,
              now: this.#now(),
              refundAttempt: true,
              notBefore: new Date(this.#clock().getTime() + this.#leaseMs).toISOString(),
            });
            continue;
          }
          const startedAt = performance.now();
          const heartbeat = setInterval(
            () => this.#renew(job),
            Math.max(100, Math.floor(this.#leaseMs / 3)),
          );
          // Jobs settle in the order they were claimed: with several in
          // flight (PIPELINE_DEPTH), a small job's result can be committed
          // before that of a larger one claimed earlier (on PostgreSQL they
          // commit on separate connections), and the `settled` event would
          // then tell a FIFO queue's story out of order.
          const previous = this.#lastSettled;
          const done = this.#telemetry.run(
            { reportId: job.reportId, attempt: job.attempts, traceparent: job.traceparent },
            () => this.#process(job, startedAt),
          ).then(async (result) => {
            clearInterval(heartbeat);
            await previous;
            const status = SETTLED_STATUS[result.outcome];
            this.#running.delete(job.reportId);
            this.dispatchEvent(
              new CustomEvent<JobSettledDetail>("settled", {
                detail: { reportId: job.reportId, status },
              }),
            );
            this.notify();
          });
          this.#lastSettled = done;
          this.#running.set(job.reportId, { startedAt, done, job, lost: false });
        }
      } while (this.#pumpAgain && this.#accepting);
    } finally {
      this.#pumping = false;
    }
  }

  async #process(job: ClaimedJob, startedAt: number): Promise<JobResult> {
    const { db, pool, maxAttempts, maxPoints } = this.#options;
    const context = { report_id: job.reportId, attempt: job.attempts, format: job.format };
    if (job.attempts > maxAttempts) {
      // Claimed more often than allowed: its earlier holders died while running
      // it (a job that kills its process would otherwise kill every instance).
      const detail = `Processing stopped ${maxAttempts} time(s) without finishing ` +
        "(the process running it ended); giving up";
      await this.#fail(job, { kind: "processing_failed", detail });
      log.error("Job failed for report {report_id}: {reason}", { ...context, reason: detail });
      return { outcome: "failed", error: detail };
    }
    log.info("Job started for report {report_id}, attempt {attempt}", context);
    try {
      const input = await this.#input(job);
      if ("error" in input) {
        await this.#fail(job, input.error);
        log.info("Job failed for report {report_id}: {reason}", {
          ...context,
          reason: input.error.detail,
        });
        return { outcome: "failed", error: input.error.detail };
      }
      const prepared = job.importSource === null ? this.#prepared.get(job.uploadId) : undefined;
      this.#prepared.delete(job.uploadId);
      let response = await prepared;
      // A stream that crashed (or was cut off) is no verdict: process the stored upload.
      if (response === undefined || (!response.ok && response.failure === "crashed")) {
        response = await pool.run({
          // A stored upload is read only once a worker is free for it (see PIPELINE_DEPTH).
          body: input.body === undefined
            ? async () => transferableBuffer(await readUpload(db, job.uploadId, job.bytes))
            : transferableBuffer(input.body),
          format: job.format,
          maxPoints,
          parse: job.parseOptions ?? undefined,
        });
      }
      if (this.#stopped) return { outcome: "retried" };
      // A heartbeat found the lease taken while the worker ran (this process
      // was paused past it): the result is dropped, and the log says so.
      if (this.#running.get(job.reportId)?.lost) return this.#lostLease(job, "store the result of");
      // The disk filled while the worker ran: storing the result now would
      // take the reserve that deletes and shutdown need. The job goes back
      // to the queue as a full disk does (attempt given back, a short wait).
      if (this.#options.paused?.() === true) {
        return await this.#storageFailure(
          job,
          new StorageError("Cannot store the job's result: the database or disk is full"),
        );
      }
      const durationMs = Math.round(performance.now() - startedAt);
      if (response.ok) {
        const stored = await completeJob(db, job.reportId, {
          lease: job.lease,
          result: {
            rowCounts: { ...response.rows },
            summary: { ...response.summary },
            series: {
              timestamps: new Float64Array(response.timestamps),
              names: response.names,
              columns: response.columns.map((column) => new Float64Array(column)),
            },
            name: response.name,
            source: withDialect(input.source ?? { kind: "upload", format: job.format }, response),
            finishedAt: this.#now(),
          },
        });
        if (stored === "lost") return this.#lostLease(job, "complete");
        if (stored === "gone") return this.#goneJob(job, "result");
        this.#recordDuration(durationMs);
        log.info("Job finished for report {report_id}: {points} points in {duration_ms} ms", {
          ...context,
          duration_ms: durationMs,
          points: response.summary.points,
        });
        return { outcome: "ready", points: response.summary.points };
      }
      if (response.failure === "rejected") {
        const failed = await this.#fail(job, {
          kind: response.kind ?? "invalid_input",
          detail: response.message,
          errors: response.errors,
        });
        if (failed === "lost") return this.#lostLease(job, "fail");
        log.info("Job failed for report {report_id}: {reason}", {
          ...context,
          duration_ms: durationMs,
          reason: response.message,
        });
        return { outcome: "failed", error: response.message };
      }
      if (job.attempts < maxAttempts) {
        const requeued = await requeueJob(db, job.reportId, {
          lease: job.lease,
          now: this.#now(),
          lastError: response.message,
        });
        if (requeued === "lost") return this.#lostLease(job, "requeue");
        log.warn("Job crashed for report {report_id} (attempt {attempt}); retrying: {reason}", {
          ...context,
          duration_ms: durationMs,
          reason: response.message,
        });
        return { outcome: "retried", error: response.message };
      }
      const failed = await this.#fail(job, {
        kind: "processing_failed",
        detail: `Processing failed after ${job.attempts} attempt(s): ${response.message}`,
      });
      if (failed === "lost") return this.#lostLease(job, "fail");
      log.error("Job failed for report {report_id} after {attempt} attempt(s): {reason}", {
        ...context,
        duration_ms: durationMs,
        reason: response.message,
      });
      return { outcome: "failed", error: response.message };
    } catch (error) {
      return await this.#storageFailure(job, error);
    }
  }

  /**
   * A storage error while running a job counts as an attempt (a full disk
   * excepted: see below). Below the
   * limit, the job goes back to the queue, claimable only after an
   * exponential backoff with full jitter (base * 2^(attempt-1), capped), so a
   * persistent failure costs a few tries spread over time, not a hot loop;
   * at the limit the report fails with a problem saying so. When even that
   * write fails (the database is down), the lease simply runs out and the
   * sweep requeues the job later, still counted.
   */
  async #storageFailure(job: ClaimedJob, error: unknown): Promise<JobResult> {
    const { db, maxAttempts } = this.#options;
    const context = { report_id: job.reportId, attempt: job.attempts, format: job.format };
    log.error("Job for report {report_id} hit a storage error (attempt {attempt}): {error}", {
      ...context,
      error: describeError(error),
    });
    if (this.#stopped) return { outcome: "retried", error };
    if (this.#running.get(job.reportId)?.lost) return this.#lostLease(job, "requeue");
    // A full disk is not this job's fault, and deletes or an operator will
    // free space: the attempt is given back and the job waits a few seconds,
    // however often it happens, so an accepted upload is never failed for it.
    const diskFull = isStorageFull(error);
    if (diskFull) await this.#noteDiskFull(error);
    try {
      if (job.attempts >= maxAttempts && !diskFull) {
        const detail = `Storage failed ${job.attempts} time(s) while processing this report; ` +
          "giving up (upload it again once the service is healthy)";
        const failed = await this.#fail(job, { kind: "processing_failed", detail });
        if (failed === "lost") return this.#lostLease(job, "fail");
        return { outcome: "failed", error: detail };
      }
      const base = this.#options.retryBaseMs ?? 1_000;
      const delayMs = diskFull
        ? Math.round(DISK_FULL_RETRY_MS * (0.5 + Math.random() / 2))
        : Math.round(
          Math.random() * Math.min(MAX_RETRY_DELAY_MS, base * 2 ** (job.attempts - 1)),
        );
      const notBefore = new Date(this.#clock().getTime() + delayMs).toISOString();
      const requeued = await requeueJob(db, job.reportId, {
        lease: job.lease,
        now: this.#now(),
        lastError: String(error),
        notBefore,
        refundAttempt: diskFull,
      });
      if (requeued === "lost") return this.#lostLease(job, "requeue");
      if (requeued === "gone") return this.#goneJob(job, "requeue");
      // Claimable from then on: look again at that moment (the poll is the fallback).
      const timer = setTimeout(() => {
        this.#retryTimers.delete(timer);
        this.notify();
      }, delayMs + 1);
      this.#retryTimers.add(timer);
    } catch (again) {
      log.error("Could not requeue the job for report {report_id}: {error}", {
        ...context,
        error: describeError(again),
      });
    }
    return { outcome: "retried", error };
  }

  /** Passes a full disk on to `onDiskFull`; never throws (the caller is already handling a failure). */
  async #noteDiskFull(error: unknown): Promise<void> {
    try {
      await this.#options.onDiskFull?.(error);
    } catch (again) {
      log.warn("Cannot release the disk reserve: {error}", { error: describeError(again) });
    }
  }

  /** Renews a running job's lease; a lost lease marks the job so its result is dropped. */
  async #renew(job: ClaimedJob): Promise<void> {
    let outcome: FencedOutcome;
    try {
      outcome = await renewLease(this.#options.db, job.reportId, {
        lease: job.lease,
        until: new Date(this.#clock().getTime() + this.#leaseMs).toISOString(),
      });
    } catch (error) {
      // The database is unreachable: keep working, the next beat tries again.
      log.warn("Could not renew the lease of report {report_id}: {error}", {
        report_id: job.reportId,
        error: describeError(error),
      });
      return;
    }
    const running = this.#running.get(job.reportId);
    if (outcome !== "done" && running !== undefined) running.lost = true;
  }

  #lostLease(job: ClaimedJob, action: string): JobResult {
    log.warn(
      "Refused to {action} the job of report {report_id}: its lease expired and another " +
        "claim holds it now",
      { action, report_id: job.reportId, attempt: job.attempts },
    );
    return { outcome: "retried", error: "lease lost" };
  }

  // The job row is gone: the report was deleted meanwhile, or the instance
  // that took the expired lease over finished it. Either way nothing is stored.
  #goneJob(job: ClaimedJob, what: "result" | "requeue"): JobResult {
    log.warn("Dropped the {what} of report {report_id}: its job is gone (deleted or taken over)", {
      what,
      report_id: job.reportId,
      attempt: job.attempts,
    });
    return { outcome: "retried", error: "job gone" };
  }

  /**
   * The bytes a job works on: for an import the CSV the provider (or the
   * upstream cache) returns, with the report's updated source; nothing yet
   * for an upload, whose stored body the pool loads when a worker is free.
   * A provider failure is final for the job: the HTTP client already retried.
   */
  async #input(
    job: ClaimedJob,
  ): Promise<{ body?: Uint8Array; source?: JsonObject } | { error: JobError }> {
    // The stored upload: the worker pool reads it when a worker is free.
    if (job.importSource === null) return {};
    const source = job.importSource as ImportSource;
    const importer = this.#options.importer;
    if (importer === undefined) {
      return { error: { kind: "unavailable", detail: "Imports are not enabled on this instance" } };
    }
    try {
      const imported = await importer.fetch(source);
      return { body: imported.csv, source: { kind: "provider", ...source, cache: imported.cache } };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return { error: { kind: error.kind, detail: error.message, errors: error.errors } };
    }
  }

  #fail(job: ClaimedJob, error: JobError): Promise<FencedOutcome> {
    return failJob(this.#options.db, job.reportId, {
      lease: job.lease,
      failure: { error: { ...error }, finishedAt: this.#now() },
    });
  }

  #recordDuration(durationMs: number): void {
    // Weight recent jobs more: uploads vary in size over time.
    this.#meanSeconds = 0.8 * this.#meanSeconds + 0.2 * (durationMs / 1000);
  }

  #now(): string {
    return this.#clock().toISOString();
  }

  #clock(): Date {
    return this.#options.now?.() ?? new Date();
  }
}

/** The `settled` event's status for each attempt outcome. */
const SETTLED_STATUS: Record<JobResult["outcome"], JobSettledDetail["status"]> = {
  ready: "ready",
  failed: "failed",
  retried: "queued",
};

function clampSeconds(seconds: number): number {
  return Math.min(3600, Math.max(1, Math.ceil(seconds)));
}

function logSweepFailure(error: unknown): void {
  log.error("Sweeping expired leases failed: {error}", { error: describeError(error) });
}

function logPurgeFailure(error: unknown): void {
  log.error("Purging expired data failed: {error}", { error: describeError(error) });
}

/**
 * The report's source with `dialect` (how the file was read) added, when the
 * worker said; an import keeps its provider fields.
 */
function withDialect(source: JsonObject, response: { dialect?: SourceDialect }): JsonObject {
  return response.dialect === undefined ? source : { ...source, dialect: { ...response.dialect } };
}
