/**
 * reportd's telemetry in one object: the tracer, the HTTP and job
 * instruments, the process and database gauges, `/metrics` rendering and,
 * when a collector is configured, OTLP/HTTP export of spans and metrics.
 *
 * `main.ts` starts one with {@linkcode startTelemetry} and hands it to the
 * app and the job queue, which is why the instruments live on an object
 * rather than in module globals: a test starts its own, with its own
 * collector, and disposes it.
 *
 * @module
 */
import type { Tracer } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  MeterProvider,
  type MetricReader,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { createHttpServerTelemetry, DURATION_BUCKETS, type HttpServerTelemetry } from "./http.ts";
import { RequestDurations } from "./request_durations.ts";
import { createJobTelemetry, type JobTelemetry } from "./jobs.ts";
import {
  type ConnectionObservations,
  type DatabaseObservations,
  observeConnections,
  observeDatabase,
  observeRuntime,
  PullMetricReader,
  renderPrometheus,
} from "./metrics.ts";
import { otlpMetricExporter, type OtlpOptions, otlpSpanExporter } from "./otlp.ts";
import { getLogger } from "./logger.ts";
import { startTracing, stopTracing } from "./tracing.ts";

export type { ConnectionObservations, DatabaseObservations } from "./metrics.ts";
export type { JobAttempt, JobOutcome, JobResult, JobTelemetry, QueueDepth } from "./jobs.ts";
export { UNOBSERVED_JOBS } from "./jobs.ts";
export type { OtlpOptions, OtlpProtocol } from "./otlp.ts";
export { PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
export { currentTraceparent, tracedFetch } from "./tracing.ts";

/** Options for {@linkcode startTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` on every span and metric. */
  serviceName: string;
  /** `service.version`. */
  serviceVersion: string;
  /** Push spans and metrics to this collector; without it nothing leaves the process. */
  otlp?: OtlpOptions & {
    /** How often metrics are pushed, in ms (default 60 s). */
    metricIntervalMs?: number;
  };
  /**
   * Longest wait for the final export at shutdown, in ms (default 5 s): a
   * collector that is down must not hold up a restart.
   */
  shutdownTimeoutMs?: number;
}

/** Everything the app and the queue record telemetry through. */
export interface Telemetry extends AsyncDisposable {
  /** The tracer for reportd's own spans. */
  readonly tracer: Tracer;
  /** Server spans and request metrics. */
  readonly http: HttpServerTelemetry;
  /** Job lifecycle: log lines, metrics and spans. */
  readonly jobs: JobTelemetry;
  /** Registers the sources of `reportd.db.size` and `reportd.reports` (call once). */
  observeDatabase(source: DatabaseObservations): void;
  /** Registers the sources of `reportd.connections.*` (call once). */
  observeConnections(source: ConnectionObservations): void;
  /** Collects every instrument and renders Prometheus' text format. */
  renderPrometheus(): Promise<string>;
  /** Flushes what is pending to the collector and stops; call once, at shutdown. */
  shutdown(): Promise<void>;
}

/**
 * Starts telemetry: a meter provider with the `/metrics` reader (and an OTLP
 * push reader when `otlp` is given), a global tracer provider, and the
 * runtime gauges.
 *
 * @example Render the metrics after one request
 * ```ts
 * import assert from "node:assert/strict";
 * import { startTelemetry } from "./mod.ts";
 *
 * await using telemetry = startTelemetry({ serviceName: "example", serviceVersion: "1.0.0" });
 * const scope = telemetry.http.start({ method: "GET", path: "/healthz", headers: new Headers() });
 * scope.finish({ route: "/healthz", status: 200 });
 * const text = await telemetry.renderPrometheus();
 * assert.match(text, /http_server_request_duration_count\{.*http_route="\/healthz".*\} 1/);
 * ```
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const resource = resourceFromAttributes({
    "service.name": options.serviceName,
    "service.version": options.serviceVersion,
    // Tells apart two processes of the same service (a restart, a second instance).
    "service.instance.id": crypto.randomUUID(),
    "process.runtime.name": "deno",
    "process.runtime.version": Deno.version.deno,
  });
  // The request-duration histogram is aggregated by reportd and handed to
  // both readers (request_durations.ts says why).
  const durations = new RequestDurations({
    boundaries: DURATION_BUCKETS,
    scope: { name: "reportd", version: options.serviceVersion },
  });
  const pull = new PullMetricReader({ metricProducers: [durations] });
  const readers: MetricReader[] = [pull];
  const spanExporter = options.otlp === undefined ? undefined : otlpSpanExporter(options.otlp);
  const metricExporter = options.otlp === undefined ? undefined : otlpMetricExporter(options.otlp);
  if (options.otlp !== undefined && metricExporter !== undefined) {
    const interval = options.otlp.metricIntervalMs ?? 60_000;
    readers.push(
      new PeriodicExportingMetricReader({
        metricProducers: [durations],
        exporter: metricExporter,
        exportIntervalMillis: interval,
        exportTimeoutMillis: Math.min(interval, 30_000),
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  const tracerProvider = startTracing({ resource, exporter: spanExporter });
  const meter = meterProvider.getMeter("reportd", options.serviceVersion);
  const tracer = tracerProvider.getTracer("reportd", options.serviceVersion);
  const stopRuntime = observeRuntime(meter);
  let stopped: Promise<void> | undefined;

  function shutdown(): Promise<void> {
    stopped ??= (async () => {
      stopRuntime();
      spanExporter?.stopRetrying();
      metricExporter?.stopRetrying();
      // Spans first: the last metrics push then includes the final requests.
      const flushed = stopTracing(tracerProvider).then(() => meterProvider.shutdown());
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        flushed.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), options.shutdownTimeoutMs ?? 5000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        getLogger(["reportd", "telemetry"]).warn(
          "Gave up flushing telemetry after {timeout_ms} ms",
          { timeout_ms: options.shutdownTimeoutMs ?? 5000 },
        );
      }
    })();
    return stopped;
  }

  return {
    tracer,
    http: createHttpServerTelemetry(meter, tracer, { durations }),
    jobs: createJobTelemetry(meter, tracer),
    observeDatabase(source: DatabaseObservations): void {
      observeDatabase(meter, source);
    },
    observeConnections(source: ConnectionObservations): void {
      observeConnections(meter, source);
    },
    renderPrometheus(): Promise<string> {
      return renderPrometheus(pull);
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
