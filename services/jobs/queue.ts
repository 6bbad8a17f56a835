/**
 * The durable job queue: claims queued reports from SQLite oldest first, hands
 * them to the worker pool, stores results, retries crashes, and drains on
 * shutdown.
 *
 * Why SQLite and not an in-memory queue: a report is "accepted" (202) only once
 * its upload and its job are committed, so a crash loses nothing; at start,
 * jobs left `processing` by a dead process go back to `queued`. Every state
 * change is one transaction.
 *
 * @module
 */
import type { Database } from "../../db/mod.ts";
import {
  type ClaimedJob,
  claimNextJob,
  completeJob,
  countQueuedJobs,
  deleteOrphanUploads,
  failJob,
  purgeExpired,
  queuePosition,
  readUpload,
  requeueAbandonedJobs,
  requeueJob,
} from "../../db/jobs_repo.ts";
import type { JsonObject } from "../../db/reports_repo.ts";
import { AppError, describeError, type ErrorKind, type FieldError } from "../errors.ts";
import type { Importer } from "../imports.ts";
import type { ImportSource } from "../providers/import_schema.ts";
import type { SourceDialect } from "../series/dialect.ts";
import { type JobResult, type JobTelemetry, UNOBSERVED_JOBS } from "../telemetry/jobs.ts";
import { getLogger } from "../telemetry/logger.ts";
import type { WorkerPool } from "./pool.ts";
import { transferableBuffer } from "./protocol.ts";

const log = getLogger(["reportd", "jobs"]);

/** How often the queue looks for work it was not told about (another process, a missed notify). */
const POLL_INTERVAL_MS = 5_000;
/** How often expired uploads and idempotency keys are purged. */
const PURGE_INTERVAL_MS = 60 * 60_000;
/** Idempotency keys are honoured for this long. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** Assumed job duration before any job has finished, for Retry-After estimates. */
const DEFAULT_JOB_SECONDS = 2;

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
  readonly #running = new Map<string, { startedAt: number; done: Promise<void> }>();
  #accepting = false;
  #stopped = false;
  #pumping = false;
  #pumpAgain = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  /** Exponentially weighted mean of recent job durations, in seconds. */
  #meanSeconds = DEFAULT_JOB_SECONDS;

  /** Creates a stopped queue; call {@linkcode start}. */
  constructor(options: JobQueueOptions) {
    super();
    this.#options = options;
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
   * Recovers jobs abandoned by a previous process, removes uploads whose
   * request died before it was queued, purges expired data, and starts
   * processing. Call once, before the server accepts requests.
   */
  async start(): Promise<{ recovered: number; orphanChunks: number }> {
    const { db } = this.#options;
    const recovered = await requeueAbandonedJobs(db, { now: this.#now() });
    const orphanChunks = await deleteOrphanUploads(db);
    if (recovered > 0) {
      log.warn("Requeued {recovered} job(s) left processing by a crash", { recovered });
    }
    await this.purge();
    this.#accepting = true;
    this.#timers.push(
      setInterval(() => this.notify(), POLL_INTERVAL_MS),
      setInterval(() => this.purge().catch(logPurgeFailure), PURGE_INTERVAL_MS),
    );
    // The timers are a safety net, not a reason to keep the process alive.
    for (const timer of this.#timers) timer.unref();
    this.notify();
    return { recovered, orphanChunks };
  }

  /** Says that work may be waiting (a job was queued or a worker freed up). */
  notify(): void {
    if (!this.#accepting) return;
    this.#pump().catch((error) => {
      log.error("The job queue could not claim work: {error}", { error: describeError(error) });
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
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
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
      for (const reportId of this.#running.keys()) {
        await requeueJob(this.#options.db, reportId, { now: this.#now(), refundAttempt: true });
        requeued++;
      }
    }
    this.#options.pool.terminate();
    return { finished: before - requeued, requeued };
  }

  /** Deletes failed uploads past retention and idempotency keys past 24 h. */
  async purge(): Promise<void> {
    const now = (this.#options.now?.() ?? new Date()).getTime();
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
        while (this.#accepting && this.#running.size < this.#options.pool.size) {
          const job = await claimNextJob(this.#options.db, { now: this.#now() });
          if (job === undefined) break;
          const startedAt = performance.now();
          const done = this.#telemetry.run(
            { reportId: job.reportId, attempt: job.attempts, traceparent: job.traceparent },
            () => this.#process(job, startedAt),
          ).then((result) => {
            const status = SETTLED_STATUS[result.outcome];
            this.#running.delete(job.reportId);
            this.dispatchEvent(
              new CustomEvent<JobSettledDetail>("settled", {
                detail: { reportId: job.reportId, status },
              }),
            );
            this.notify();
          });
          this.#running.set(job.reportId, { startedAt, done });
        }
      } while (this.#pumpAgain && this.#accepting);
    } finally {
      this.#pumping = false;
    }
  }

  async #process(job: ClaimedJob, startedAt: number): Promise<JobResult> {
    const { db, pool, maxAttempts, maxPoints } = this.#options;
    const context = { report_id: job.reportId, attempt: job.attempts, format: job.format };
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
      const response = await pool.run({
        body: transferableBuffer(input.body),
        format: job.format,
        maxPoints,
        parse: job.parseOptions ?? undefined,
      });
      if (this.#stopped) return { outcome: "retried" };
      const durationMs = Math.round(performance.now() - startedAt);
      if (response.ok) {
        const stored = await completeJob(db, job.reportId, {
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
        });
        this.#recordDuration(durationMs);
        log.info("Job finished for report {report_id}: {points} points in {duration_ms} ms", {
          ...context,
          duration_ms: durationMs,
          points: response.summary.points,
          stored,
        });
        return { outcome: "ready", points: response.summary.points };
      }
      if (response.failure === "rejected") {
        await this.#fail(job, {
          kind: response.kind ?? "invalid_input",
          detail: response.message,
          errors: response.errors,
        });
        log.info("Job failed for report {report_id}: {reason}", {
          ...context,
          duration_ms: durationMs,
          reason: response.message,
        });
        return { outcome: "failed", error: response.message };
      }
      if (job.attempts < maxAttempts) {
        await requeueJob(db, job.reportId, { now: this.#now(), lastError: response.message });
        log.warn("Job crashed for report {report_id} (attempt {attempt}); retrying: {reason}", {
          ...context,
          duration_ms: durationMs,
          reason: response.message,
        });
        return { outcome: "retried", error: response.message };
      }
      await this.#fail(job, {
        kind: "processing_failed",
        detail: `Processing failed after ${job.attempts} attempt(s): ${response.message}`,
      });
      log.error("Job failed for report {report_id} after {attempt} attempt(s): {reason}", {
        ...context,
        duration_ms: durationMs,
        reason: response.message,
      });
      return { outcome: "failed", error: response.message };
    } catch (error) {
      // Storage trouble: leave the job to be claimed again rather than lose it.
      log.error("Job for report {report_id} hit a storage error: {error}", {
        ...context,
        error: describeError(error),
      });
      if (!this.#stopped) {
        await requeueJob(db, job.reportId, { now: this.#now(), lastError: String(error) })
          .catch(() => {});
      }
      return { outcome: "retried", error };
    }
  }

  /**
   * The bytes a job works on: its stored upload, or for an import the CSV the
   * provider (or the upstream cache) returns, with the report's updated source.
   * A provider failure is final for the job: the HTTP client already retried.
   */
  async #input(
    job: ClaimedJob,
  ): Promise<{ body: Uint8Array; source?: JsonObject } | { error: JobError }> {
    if (job.importSource === null) {
      return { body: await readUpload(this.#options.db, job.uploadId, job.bytes) };
    }
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

  async #fail(job: ClaimedJob, error: JobError): Promise<void> {
    await failJob(this.#options.db, job.reportId, {
      error: { ...error },
      finishedAt: this.#now(),
    });
  }

  #recordDuration(durationMs: number): void {
    // Weight recent jobs more: uploads vary in size over time.
    this.#meanSeconds = 0.8 * this.#meanSeconds + 0.2 * (durationMs / 1000);
  }

  #now(): string {
    return (this.#options.now?.() ?? new Date()).toISOString();
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
