/**
 * Telemetry of background jobs: a span and metrics per attempt, with the
 * attempt's log lines tied to both.
 *
 * - The request that queues a job stores `currentTraceparent()` with it.
 * - {@linkcode JobTelemetry.run} wraps each attempt: it opens a span linked
 *   to that request (a job outlives its request, and may run after a restart,
 *   so it starts a trace of its own rather than hanging off a span that ended
 *   long ago), puts `report_id` and `attempt` on every log line written
 *   meanwhile (the queue's "started", "finished" and "failed" lines then carry
 *   the job's `trace_id` too), records `reportd.job.duration` by outcome and
 *   adds to `reportd.ingest.points`.
 * - {@linkcode JobTelemetry.observeQueue}, once, feeds `reportd.jobs.queued`
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
import { withLogFields } from "./context.ts";
import { spanContextFromTraceparent } from "./tracing.ts";

/**
 * How one attempt ended: `ready` (the report is done), `failed` (the report
 * is marked failed, no retry), `retried` (the job goes back to the queue: a
 * crashed worker with attempts left, a storage error, or a shutdown).
 */
export type JobOutcome = "ready" | "failed" | "retried";

/** What a job attempt reports back to {@linkcode JobTelemetry.run}. */
export interface JobResult {
  /** How the attempt ended. */
  outcome: JobOutcome;
  /** Points stored in the report (counted in `reportd.ingest.points` when ready). */
  points?: number;
  /** Why it failed, recorded on the span. */
  error?: unknown;
}

/** The job an attempt belongs to. */
export interface JobAttempt {
  /** The report the job computes. */
  reportId: string;
  /** 1 for the first try. */
  attempt: number;
  /** The `traceparent` of the request that queued the job, as stored with it. */
  traceparent?: string | null;
}

/** Jobs waiting and running right now. */
export interface QueueDepth {
  /** Jobs waiting for a worker. */
  queued: number;
  /** Jobs a worker is processing. */
  running: number;
}

/** The calls the job queue makes; see the module documentation for when. */
export interface JobTelemetry {
  /**
   * Runs one attempt inside its own span, with `report_id` and `attempt` on
   * every log line written meanwhile, and records how it ended. A `work` that
   * throws counts as `failed`, and the error is rethrown.
   */
  run<T extends JobResult>(job: JobAttempt, work: () => Promise<T>): Promise<T>;
  /** Makes `read` the source of the queue gauges (call once; it runs on each collection). */
  observeQueue(read: () => QueueDepth | Promise<QueueDepth>): void;
}

// Jobs take from milliseconds (a small upload) to minutes (millions of rows).
const JOB_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Creates the job instruments on `meter` and the calls around them. */
export function createJobTelemetry(meter: Meter, tracer: Tracer): JobTelemetry {
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

  function settle(result: JobResult, elapsedMs: number): void {
    const span = trace.getActiveSpan();
    duration.record(elapsedMs / 1000, { outcome: result.outcome });
    span?.setAttribute("reportd.job.outcome", result.outcome);
    if (result.outcome === "ready") {
      if (result.points !== undefined) {
        points.add(result.points);
        span?.setAttribute("reportd.job.points", result.points);
      }
      return;
    }
    span?.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(result.error) });
    if (result.error instanceof Error) span?.recordException(result.error);
  }

  return {
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
      async function attempt(): Promise<T> {
        try {
          const result = await work();
          settle(result, performance.now() - started);
          return result;
        } catch (error) {
          settle({ outcome: "failed", error }, performance.now() - started);
          throw error;
        } finally {
          span.end();
        }
      }
      const fields = { report_id: job.reportId, attempt: job.attempt };
      return context.with(withLogFields(trace.setSpan(ROOT_CONTEXT, span), fields), attempt);
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

/**
 * Job telemetry that records nothing and runs the work as is: the queue's
 * default when it is built without telemetry (most tests).
 */
export const UNOBSERVED_JOBS: JobTelemetry = {
  run<T extends JobResult>(_job: JobAttempt, work: () => Promise<T>): Promise<T> {
    return work();
  },
  observeQueue(): void {},
};

function errorMessage(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : String(error);
}
