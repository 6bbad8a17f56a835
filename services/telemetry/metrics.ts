/**
 * Metrics plumbing: the reader behind `GET /metrics`, the Prometheus text
 * rendering, and the instruments that describe the process and the database
 * rather than a request or a job.
 *
 * One OpenTelemetry `MeterProvider` feeds two readers: the pull reader here,
 * collected on each scrape, and (when a collector is configured) a periodic
 * OTLP push. Both read cumulative values, so a scrape and a push never steal
 * counts from each other.
 *
 * @module
 */
import type { BatchObservableResult, Histogram, Meter } from "@opentelemetry/api";
import { PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { MetricReader } from "@opentelemetry/sdk-metrics";
import { getLogger } from "./logger.ts";

/** The media type of Prometheus' text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * A reader that collects only when asked (on a scrape). The SDK's own
 * `PrometheusExporter` would do, but it reads `OTEL_EXPORTER_PROMETHEUS_*`
 * from the environment and wants to run its own server on a second port.
 */
export class PullMetricReader extends MetricReader {
  /** Nothing is buffered, so there is nothing to flush. */
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to release. */
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

// Scope labels would add otel_scope_name="reportd" to every series; all of
// reportd's instruments share that one scope, so it says nothing.
const SERIALIZER = new PrometheusSerializer(undefined, false, undefined, false, true);

/**
 * Collects `reader` and renders the result in Prometheus' text format
 * (version 0.0.4), with the resource as `target_info`.
 */
export async function renderPrometheus(reader: MetricReader): Promise<string> {
  const { resourceMetrics, errors } = await reader.collect();
  for (const error of errors) {
    getLogger(["reportd", "telemetry"]).warn("A metric callback failed: {error}", {
      error: error instanceof Error ? error.message : String(error),
    });
  }
  return SERIALIZER.serialize(resourceMetrics);
}

/** Where the database gauges get their numbers (each read on collection). */
export interface DatabaseObservations {
  /** The database's size in bytes. */
  sizeBytes: () => number | Promise<number>;
  /** How many reports are in each status. */
  reportsByStatus?: () => Record<string, number> | Promise<Record<string, number>>;
}

/** Registers `reportd.db.size` and `reportd.reports` on `meter`. */
export function observeDatabase(meter: Meter, source: DatabaseObservations): void {
  const size = meter.createObservableGauge("reportd.db.size", {
    description: "Size of the SQLite database (pages in use times page size)",
    unit: "By",
  });
  size.addCallback(async (result) => result.observe(await source.sizeBytes()));
  const { reportsByStatus } = source;
  if (reportsByStatus === undefined) return;
  const reports = meter.createObservableGauge("reportd.reports", {
    description: "Reports stored, by status",
    unit: "{report}",
  });
  reports.addCallback(async (result) => {
    // The statuses come from the database's own fixed set, never from a client.
    for (const [status, count] of Object.entries(await reportsByStatus())) {
      result.observe(count, { status });
    }
  });
}

/** Where the connection instruments get their numbers (each read on collection). */
export interface ConnectionObservations {
  /** Connections open right now. */
  open: () => number;
  /** Connections closed at once because the cap was reached, since the start. */
  refused: () => number;
}

/**
 * Registers `reportd.connections.open` and `reportd.connections.refused`
 * (Prometheus: `reportd_connections_refused_total`), read from the
 * connection guard on collection rather than counted on every accept.
 */
export function observeConnections(meter: Meter, source: ConnectionObservations): void {
  meter.createObservableUpDownCounter("reportd.connections.open", {
    description: "Client connections open (REPORTD_MAX_CONNECTIONS caps them)",
    unit: "{connection}",
  }).addCallback((result) => result.observe(source.open()));
  meter.createObservableCounter("reportd.connections.refused", {
    description: "Connections closed as soon as accepted because REPORTD_MAX_CONNECTIONS were open",
    unit: "{connection}",
  }).addCallback((result) => result.observe(source.refused()));
}

// How late a timer fires tells how long the event loop was busy; the buckets
// span "fine" (1 ms) to "every request stalls" (several seconds).
const LOOP_DELAY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Registers process memory (`process.memory.usage`, `v8js.memory.heap.used`)
 * and `reportd.event_loop.delay`, and starts the event-loop sampler. Returns
 * a function that stops the sampler.
 */
export function observeRuntime(
  meter: Meter,
  options: { sampleIntervalMs?: number } = {},
): () => void {
  const rss = meter.createObservableUpDownCounter("process.memory.usage", {
    description: "Resident set size of the process",
    unit: "By",
  });
  const heap = meter.createObservableUpDownCounter("v8js.memory.heap.used", {
    description: "JavaScript heap in use",
    unit: "By",
  });
  // One read of Deno.memoryUsage() serves both instruments.
  meter.addBatchObservableCallback((result: BatchObservableResult) => {
    const usage = Deno.memoryUsage();
    result.observe(rss, usage.rss);
    result.observe(heap, usage.heapUsed);
  }, [rss, heap]);
  const delay = meter.createHistogram("reportd.event_loop.delay", {
    description: "How late a timer fired: time the event loop spent busy with other work",
    unit: "s",
    advice: { explicitBucketBoundaries: LOOP_DELAY_BUCKETS },
  });
  return sampleEventLoopDelay(delay, options.sampleIntervalMs ?? 100);
}

// A histogram of samples (rather than node's monitorEventLoopDelay gauges,
// which would have to be reset on each read) stays correct with two readers:
// Prometheus computes any quantile over any window from the buckets.
function sampleEventLoopDelay(histogram: Histogram, intervalMs: number): () => void {
  let expected = performance.now() + intervalMs;
  let timer = schedule();
  function schedule(): ReturnType<typeof setTimeout> {
    const id = setTimeout(tick, intervalMs);
    // The sampler must never be what keeps the process alive.
    Deno.unrefTimer(Number(id));
    return id;
  }
  function tick(): void {
    const now = performance.now();
    histogram.record(Math.max(0, now - expected) / 1000);
    expected = now + intervalMs;
    timer = schedule();
  }
  return function stop(): void {
    clearTimeout(timer);
  };
}
