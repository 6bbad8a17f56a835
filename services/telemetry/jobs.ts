/**
 * Telemetry of background jobs: one call per lifecycle step gives the log
 * line, the metrics and the span together, so the queue cannot record one and
 * forget another.
 *
 * - {@linkcode JobTelemetry.queued} inside the request that queued the job:
 *   logs "queued" and returns the request's `traceparent` to store with the job.
 * - {@linkcode JobTelemetry.run} around each attempt: opens a span linked to
 *   that request (a job outlives its request, and may run after a restart, so
 *   it starts its own trace rather than hanging off a span that ended long
 *   ago), logs "started" and "finished" or "failed", records
 *   `reportd.job.duration` by outcome and adds to `reportd.ingest.points`.
 * - {@linkcode JobTelemetry.observeQueue} once: feeds `reportd.jobs.queued`
 *   and `reportd.jobs.running` from the queue's own counts.
 *
 * @module
 */
import {
  type BatchObservableResult,
  context,
  type Counter,
  type Histogram,
  type Link,
  type Meter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { describeError, getLogger, roundMilliseconds, withContext } from "./logger.ts";
import { currentTraceparent, spanContextFromTraceparent } from "./tracing.ts";

/**
 * How one attempt ended: `ready` (the report is done), `failed` (the report
 * is marked failed, no retry), `retried` (this attempt failed and the job
 * goes back to the queue).
 */
export type JobOutcome = "ready" | "failed" | "retried";

/** What a job attempt reports back to {@linkcode JobTelemetry.run}. */
export interface JobResult {
  /** How the attempt ended. */
  outcome: JobOutcome;
  /** Points stored in the report (counted in `reportd.ingest.points` when ready). */
  points?: number;
  /** Why it failed, for the log line (with its stack) and the span. */
  error?: unknown;
}

/** The job an attempt belongs to. */
export interface JobAttempt {
  /** The report the job computes. */
  reportId: string;
  /** 1 for the first try. */
  attempt: number;
  /** What {@linkcode JobTelemetry.queued} returned, as stored with the job. */
  traceparent?: string | null;
}

/** Jobs waiting and running right now. */
export interface QueueDepth {
  /** Jobs waiting for a worker. */
  queued: number;
  /** Jobs a worker is processing. */
  running: number;
}

/** The job lifecycle calls; see the module documentation for when to make each. */
export interface JobTelemetry {
  /**
   * Logs that the job of `reportId` was queued and returns the `traceparent`
   * of the current span (the request's), to store with the job; undefined
   * outside a span.
   */
  queued(job: { reportId: string }): string | undefined;
  /**
   * Runs one attempt inside its own span, with `report_id` and `attempt` on
   * every log line written meanwhile. A `work` that throws counts as `failed`
   * and the error is rethrown.
   */
  run<T extends JobResult>(job: JobAttempt, work: () => Promise<T>): Promise<T>;
  /** Makes `read` the source of the queue gauges (call once; it runs on each collection). */
  observeQueue(read: () => QueueDepth | Promise<QueueDepth>): void;
}

// Jobs take from milliseconds (a small upload) to minutes (millions of rows).
const JOB_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Creates the job instruments on `meter` and the lifecycle calls around them. */
export function createJobTelemetry(meter: Meter, tracer: Tracer): JobTelemetry {
  const log = getLogger(["reportd", "jobs"]);
  const duration: Histogram = meter.createHistogram("reportd.job.duration", {
    description: "Duration of one job attempt, by outcome (ready, failed, retried)",
    unit: "s",
    advice: { explicitBucketBoundaries: JOB_DURATION_BUCKETS },
  });
  const points: Counter = meter.createCounter("reportd.ingest.points", {
    description: "Data points stored in ready reports",
    unit: "{point}",
  });
  const queuedGauge = meter.createObservableGauge("reportd.jobs.queued", {
    description: "Jobs waiting for a worker",
    unit: "{job}",
  });
  const runningGauge = meter.createObservableGauge("reportd.jobs.running", {
    description: "Jobs a worker is processing",
    unit: "{job}",
  });

  function settle(job: JobAttempt, result: JobResult, elapsedMs: number): void {
    const span = trace.getActiveSpan();
    const fields = {
      report_id: job.reportId,
      attempt: job.attempt,
      outcome: result.outcome,
      duration_ms: roundMilliseconds(elapsedMs),
      points: result.points ?? null,
    };
    duration.record(elapsedMs / 1000, { outcome: result.outcome });
    span?.setAttribute("reportd.job.outcome", result.outcome);
    if (result.outcome === "ready") {
      if (result.points !== undefined) {
        points.add(result.points);
        span?.setAttribute("reportd.job.points", result.points);
      }
      log.info("Job for report {report_id} finished in {duration_ms} ms", fields);
      return;
    }
    span?.setStatus({ code: SpanStatusCode.ERROR });
    if (result.error instanceof Error) span?.recordException(result.error);
    const failure = { ...fields, error: describeError(result.error) };
    if (result.outcome === "retried") {
      log.warn("Job for report {report_id} failed on attempt {attempt}; retrying", failure);
    } else {
      log.error("Job for report {report_id} failed on attempt {attempt}", failure);
    }
  }

  return {
    queued(job: { reportId: string }): string | undefined {
      log.info("Job for report {report_id} queued", { report_id: job.reportId });
      return currentTraceparent();
    },

    run<T extends JobResult>(job: JobAttempt, work: () => Promise<T>): Promise<T> {
      const origin = job.traceparent ? spanContextFromTraceparent(job.traceparent) : undefined;
      const links: Link[] = origin === undefined ? [] : [{ context: origin }];
      const span = tracer.startSpan("process report", {
        kind: SpanKind.CONSUMER,
        root: true,
        links,
        attributes: { "reportd.report_id": job.reportId, "reportd.job.attempt": job.attempt },
      });
      const started = performance.now();
      return context.with(
        trace.setSpan(ROOT_CONTEXT, span),
        () =>
          withContext({ report_id: job.reportId, attempt: job.attempt }, async () => {
            log.info("Job for report {report_id} started (attempt {attempt})", {
              report_id: job.reportId,
              attempt: job.attempt,
            });
            try {
              const result = await work();
              settle(job, result, performance.now() - started);
              return result;
            } catch (error) {
              settle(job, { outcome: "failed", error }, performance.now() - started);
              throw error;
            } finally {
              span.end();
            }
          }),
      );
    },

    observeQueue(read: () => QueueDepth | Promise<QueueDepth>): void {
      meter.addBatchObservableCallback(async (result: BatchObservableResult) => {
        const depth = await read();
        result.observe(queuedGauge, depth.queued);
        result.observe(runningGauge, depth.running);
      }, [queuedGauge, runningGauge]);
    },
  };
}
