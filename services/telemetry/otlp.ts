/**
 * OTLP/HTTP export of spans and metrics to an OpenTelemetry collector.
 *
 * The request bodies come from the official encoders in
 * `@opentelemetry/otlp-transformer` (protobuf or JSON); sending them is a
 * `fetch` with a deadline and retries. We do not use the
 * `@opentelemetry/exporter-*-otlp-http` packages: their constructors read a
 * dozen `OTEL_*` variables from `process.env` on their own, which under
 * reportd's permission set throws for every variable not granted, and would
 * route configuration around the validated `Config`
 * ([0009](../../docs/decisions/0009-opentelemetry-js-sdk-instead-of-deno-built-in.md)).
 *
 * @module
 */
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import {
  type ISerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from "@opentelemetry/otlp-transformer";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { getLogger } from "./logger.ts";

/** The OTLP/HTTP encodings: binary protobuf (the OTLP default) or JSON. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** Where and how to send telemetry. */
export interface OtlpOptions {
  /** Base URL of the collector; `/v1/traces` and `/v1/metrics` are appended. */
  endpoint: string;
  /** Body encoding. */
  protocol: OtlpProtocol;
  /** Extra request headers, e.g. an API key for a hosted collector. */
  headers?: Record<string, string>;
  /** Give up on one export (retries included) after this many ms (default 10 s). */
  timeoutMs?: number;
}

const log = getLogger(["reportd", "telemetry"]);

// The OTLP specification names these as transient: retry with backoff.
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/**
 * Sends OTLP requests of one signal to one URL. It retries transient failures
 * with exponential backoff within the export's deadline, and logs only when
 * the collector goes from reachable to unreachable and back, so a collector
 * that is down for an hour costs two log lines, not one per batch.
 */
class OtlpSender {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #inFlight = new Set<Promise<ExportResult>>();
  readonly #stopped = new AbortController();
  #failing = false;

  constructor(url: string, contentType: string, options: OtlpOptions) {
    this.#url = url;
    this.#headers = { ...options.headers, "content-type": contentType };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  send(body: Uint8Array<ArrayBuffer>): Promise<ExportResult> {
    const sending = this.#sendWithRetries(body).finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
    return sending;
  }

  /** Resolves when every send in progress has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.#inFlight]);
  }

  /** From now on each send is tried once: the process is stopping. */
  stopRetrying(): void {
    this.#stopped.abort();
  }

  async #sendWithRetries(body: Uint8Array<ArrayBuffer>): Promise<ExportResult> {
    const deadline = performance.now() + this.#timeoutMs;
    let reason = "";
    for (let attempt = 0;; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        const response = await fetch(this.#url, {
          method: "POST",
          headers: this.#headers,
          body,
          signal: AbortSignal.timeout(Math.max(1, deadline - performance.now())),
        });
        // The body is a (possibly partial-success) receipt we do not act on.
        await response.body?.cancel();
        if (response.ok) {
          this.#recovered();
          return { code: ExportResultCode.SUCCESS };
        }
        reason = `HTTP ${response.status}`;
        if (!RETRYABLE_STATUSES.has(response.status)) break;
        retryAfterMs = retryAfter(response.headers.get("retry-after"));
      } catch (error) {
        // Refused connections, DNS failures and timeouts are worth a retry.
        reason = error instanceof Error ? error.message : String(error);
      }
      // Full jitter keeps many instances from retrying in lockstep.
      const delay = retryAfterMs ?? Math.random() * Math.min(5000, 250 * 2 ** attempt);
      if (this.#stopped.signal.aborted || performance.now() + delay >= deadline) break;
      await sleep(delay, this.#stopped.signal);
    }
    this.#failed(reason);
    return { code: ExportResultCode.FAILED, error: new Error(`OTLP export failed: ${reason}`) };
  }

  #failed(reason: string): void {
    if (this.#failing) return;
    this.#failing = true;
    log.warn(
      "Cannot export telemetry to {url}: {reason}; dropping it until the collector answers",
      {
        url: this.#url,
        reason,
      },
    );
  }

  #recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    log.info("Exporting telemetry to {url} again", { url: this.#url });
  }
}

/**
 * An exporter for one OTLP signal: spans (it is a `SpanExporter`) or metrics
 * (a `PushMetricExporter`); both interfaces have the same shape.
 */
export class OtlpHttpExporter<T> {
  readonly #sender: OtlpSender;
  readonly #serializer: ISerializer<T, unknown>;

  /** Builds an exporter posting to `url` with bodies made by `serializer`. */
  constructor(
    url: string,
    serializer: ISerializer<T, unknown>,
    options: OtlpOptions,
  ) {
    this.#serializer = serializer;
    const contentType = options.protocol === "http/json"
      ? "application/json"
      : "application/x-protobuf";
    this.#sender = new OtlpSender(url, contentType, options);
  }

  /** Encodes `items` and sends them; `done` gets the outcome. */
  export(items: T, done: (result: ExportResult) => void): void {
    let body: Uint8Array<ArrayBuffer> | undefined;
    try {
      // The encoders always allocate a fresh ArrayBuffer.
      body = this.#serializer.serializeRequest(items) as Uint8Array<ArrayBuffer> | undefined;
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
      return;
    }
    if (body === undefined) {
      done({ code: ExportResultCode.FAILED, error: new Error("Cannot encode the OTLP request") });
      return;
    }
    this.#sender.send(body).then(done);
  }

  /** Waits for sends in progress. */
  forceFlush(): Promise<void> {
    return this.#sender.idle();
  }

  /**
   * Makes every send from now on a single try, so that flushing at shutdown
   * is not held up by retries to a collector that is down.
   */
  stopRetrying(): void {
    this.#sender.stopRetrying();
  }

  /** Finishes sends in progress without further retries. */
  async shutdown(): Promise<void> {
    this.#sender.stopRetrying();
    await this.#sender.idle();
  }
}

/**
 * A span exporter for `options.endpoint` + `/v1/traces`.
 *
 * @example
 * ```ts
 * import { otlpSpanExporter } from "./otlp.ts";
 * const exporter = otlpSpanExporter({ endpoint: "http://127.0.0.1:4318", protocol: "http/json" });
 * await exporter.shutdown();
 * ```
 */
export function otlpSpanExporter(options: OtlpOptions): OtlpHttpExporter<ReadableSpan[]> {
  const serializer = options.protocol === "http/json"
    ? JsonTraceSerializer
    : ProtobufTraceSerializer;
  return new OtlpHttpExporter<ReadableSpan[]>(signalUrl(options, "traces"), serializer, options);
}

/** A metric exporter for `options.endpoint` + `/v1/metrics`. */
export function otlpMetricExporter(options: OtlpOptions): OtlpHttpExporter<ResourceMetrics> {
  const serializer = options.protocol === "http/json"
    ? JsonMetricsSerializer
    : ProtobufMetricsSerializer;
  return new OtlpHttpExporter<ResourceMetrics>(signalUrl(options, "metrics"), serializer, options);
}

function signalUrl(options: OtlpOptions, signal: "traces" | "metrics"): string {
  return `${options.endpoint.replace(/\/+$/, "")}/v1/${signal}`;
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
